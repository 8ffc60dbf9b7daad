//===- gigac.cpp - the giga compiler driver -------------------------------===//
//
// Exit codes: 0 success, 1 a user error (bad config, bad flags, unwritable
// output), 2 an internal error (the compiler produced invalid IR).
//
//===----------------------------------------------------------------------===//
#include "compiler/Passes.h"
#include "frontend/Config.h"
#include "frontend/Gpt.h"
#include "runtime/support/AtomicFile.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <CLI/CLI.hpp>
#include <iostream>

namespace {

enum ExitCode { kOk = 0, kUserError = 1, kInternalError = 2 };

struct CompileOptions {
  std::string input;
  std::string emit = "giga";
  std::string output = "-";
};

int compile(const CompileOptions &options) {
  giga::Config config = giga::loadConfig(options.input);
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module = giga::buildGpt(context, config);
  if (mlir::failed(mlir::verify(*module))) {
    std::cerr << "gigac: internal error: the frontend built invalid IR for "
              << options.input << " (diagnostics above); please report it\n";
    return kInternalError;
  }
  if (options.emit != "forward") {
    mlir::PassManager pm(&context);
    giga::buildTrainStepPipeline(pm);
    if (mlir::failed(pm.run(*module))) {
      std::cerr << "gigac: internal error: the training-step pipeline failed "
                   "on "
                << options.input << " (diagnostics above); please report it\n";
      return kInternalError;
    }
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  os.flush();
  if (options.output == "-")
    std::cout << text;
  else
    giga::writeFileAtomically(options.output, text);
  return kOk;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"gigac: compiles a GPT training step for a dataflow wafer.\n"
               "\nExample:\n"
               "  gigac compile configs/gpt-111m.json --emit=giga\n"};
  app.require_subcommand(1);
  CompileOptions options;
  CLI::App *compileCommand =
      app.add_subcommand("compile", "compile a model config (JSON)");
  compileCommand
      ->add_option("config", options.input,
                   "model config, e.g. configs/gpt-111m.json")
      ->required();
  compileCommand
      ->add_option("--emit", options.emit,
                   "what to write: 'giga' is the whole training step "
                   "(forward, backward, optimizer) in the giga dialect; "
                   "'forward' is the frontend's forward pass and loss only")
      ->check(CLI::IsMember({"giga", "forward"}))
      ->capture_default_str();
  compileCommand->add_option("-o,--output", options.output,
                             "output file ('-' for stdout); written whole or "
                             "not at all")
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp &help) {
    return app.exit(help);
  } catch (const CLI::ParseError &error) {
    std::cerr << "gigac: error: " << error.what() << "\n"
              << "Run 'gigac --help' for usage.\n";
    return kUserError;
  }

  try {
    return compile(options);
  } catch (const giga::ConfigError &error) {
    std::cerr << "gigac: error: " << error.what() << "\n";
    return kUserError;
  } catch (const giga::FileError &error) {
    std::cerr << "gigac: error: " << error.what() << "\n";
    return kUserError;
  } catch (const std::exception &error) {
    std::cerr << "gigac: internal error: " << error.what() << "\n";
    return kInternalError;
  }
}
