//===- gigac.cpp - the giga compiler driver -------------------------------===//
//
// Exit codes: 0 success, 1 a user error (bad config or model, a model that
// does not fit the target, bad flags, unwritable output), 2 an internal
// error (the compiler failed on its own frontend's output).
//
//===----------------------------------------------------------------------===//
#include "compiler/ArtifactWriter.h"
#include "compiler/Passes.h"
#include "compiler/Target.h"
#include "frontend/Config.h"
#include "frontend/Gpt.h"
#include "runtime/artifact/Report.h"
#include "runtime/support/AtomicFile.h"
#include "runtime/support/Error.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

namespace {

enum ExitCode { kOk = 0, kUserError = 1, kInternalError = 2 };

struct CompileOptions {
  std::string input;
  std::string emit;
  std::string output;
  std::string wafer = "wse2";
  std::string dumpIrDir;
  int64_t lossChunk = -1; // the target's
  bool report = false;
  std::string task = "train";
  int64_t systems = 0;              // 0: the config's run.num_systems
  giga::GenerationShape generation; // --task generate; context 0: T's
};

/// A failure whose diagnostics MLIR already printed above it.
giga::Error compileFailure(ExitCode code, const std::string &message) {
  return giga::Error(message + " (diagnostics above)",
                     code == kInternalError ? giga::ErrorKind::Internal
                                            : giga::ErrorKind::User);
}

bool endsWith(const std::string &text, const std::string &suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

nlohmann::json attributeToJson(mlir::Attribute attr) {
  if (auto dict = mlir::dyn_cast<mlir::DictionaryAttr>(attr)) {
    nlohmann::json object = nlohmann::json::object();
    for (mlir::NamedAttribute entry : dict)
      object[entry.getName().str()] = attributeToJson(entry.getValue());
    return object;
  }
  if (auto integer = mlir::dyn_cast<mlir::IntegerAttr>(attr))
    return integer.getInt();
  if (auto real = mlir::dyn_cast<mlir::FloatAttr>(attr))
    return real.getValueAsDouble();
  if (auto text = mlir::dyn_cast<mlir::StringAttr>(attr))
    return text.str();
  return nullptr;
}

/// The config an artifact records: the JSON config, or what a hand-written
/// module says of itself in its giga.* attributes.
nlohmann::json moduleConfig(mlir::ModuleOp module) {
  nlohmann::json config = nlohmann::json::object();
  for (const char *key : {"name", "model", "run"})
    if (mlir::Attribute attr = module->getAttr(std::string("giga.") + key))
      config[key] = attributeToJson(attr);
  return config;
}

/// Remembers the first pass that failed, so that gigac can say which stage
/// of the pipeline did.
class FailedPassRecorder : public mlir::PassInstrumentation {
public:
  explicit FailedPassRecorder(std::string &failed) : failed(failed) {}
  void runAfterPassFailed(mlir::Pass *pass, mlir::Operation *) override {
    if (failed.empty())
      failed = pass->getArgument().str();
  }

private:
  std::string &failed;
};

/// Runs giga-compile-pipeline, as giga-opt would with the same options.
void runPipeline(mlir::ModuleOp module, mlir::MLIRContext &context,
                 const CompileOptions &options, giga::CompileStage stopAfter,
                 const std::string &targetName, ExitCode onFailure) {
  // IR printing needs the passes to run on this thread.
  if (!options.dumpIrDir.empty())
    context.disableMultithreading();
  mlir::PassManager pm(&context);
  if (!options.dumpIrDir.empty())
    pm.enableIRPrintingToFileTree(
        [](mlir::Pass *, mlir::Operation *) { return false; },
        [](mlir::Pass *, mlir::Operation *) { return true; },
        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false,
        /*printAfterOnlyOnFailure=*/false, options.dumpIrDir);
  std::string failedPass;
  pm.addInstrumentation(std::make_unique<FailedPassRecorder>(failedPass));
  if (options.task == "generate") {
    giga::GeneratePipelineOptions pipeline;
    pipeline.wafer = options.wafer;
    giga::buildGeneratePipeline(pm, pipeline);
  } else {
    giga::CompilePipelineOptions pipeline;
    pipeline.wafer = options.wafer;
    pipeline.stopAfter = stopAfter;
    pipeline.lossChunk = options.lossChunk;
    giga::buildCompilePipeline(pm, pipeline);
  }
  // The first error, to tell a model that does not fit from one that
  // wafer-microbatch cannot read (no loss, say); still printed as before.
  std::string firstError;
  mlir::ScopedDiagnosticHandler recorder(&context, [&](mlir::Diagnostic &d) {
    if (d.getSeverity() == mlir::DiagnosticSeverity::Error &&
        firstError.empty())
      firstError = d.str();
    return mlir::failure();
  });
  if (mlir::succeeded(pm.run(module)))
    return;
  // Not fitting the target is the user's to fix, whoever built the IR.
  if (failedPass == "wafer-microbatch" &&
      firstError.find("does not fit") != std::string::npos)
    throw compileFailure(kUserError, "the model does not fit " + targetName);
  throw compileFailure(onFailure,
                       llvm::StringSwitch<std::string>(failedPass)
                           .Cases("wafer-partition", "wafer-place",
                                  "lowering to wafer kernels failed")
                           .Case("wafer-plan-buffers", "buffer planning failed")
                           .Default("building the training step failed"));
}

/// --batch, --prefill-chunk and --context, checked against the model: the
/// cache holds at most its positions, by default the training sequence.
giga::GenerationShape generationShape(const CompileOptions &options,
                                      const giga::Config &config) {
  giga::GenerationShape shape = options.generation;
  int64_t positions = config.model.maxPositionEmbeddings;
  if (shape.context == 0)
    shape.context = config.run.sequenceLength;
  if (shape.context > positions)
    throw giga::ConfigError(
        options.input + ": --context " + std::to_string(shape.context) +
        " is more than the model's max_position_embeddings (" +
        std::to_string(positions) + "); give --context " +
        std::to_string(positions) + " or less");
  shape.prefillChunk = std::min(shape.prefillChunk, shape.context);
  return shape;
}

int compile(const CompileOptions &options) {
  mlir::MLIRContext context;
  context.loadDialect<giga::GigaDialect, wafer::WaferDialect,
                      mlir::func::FuncDialect>();
  bool fromMlir = endsWith(options.input, ".mlir");
  giga::Target target = giga::loadTarget(options.wafer);

  mlir::OwningOpRef<mlir::ModuleOp> module;
  nlohmann::json config;
  if (fromMlir) {
    llvm::SourceMgr sources;
    auto buffer = llvm::MemoryBuffer::getFile(options.input);
    if (!buffer)
      throw giga::ConfigError(options.input + ": cannot open (" +
                              buffer.getError().message() + ")");
    sources.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
    module = mlir::parseSourceFile<mlir::ModuleOp>(sources, &context);
    if (!module)
      throw compileFailure(kUserError, "cannot parse " + options.input);
    config = moduleConfig(*module);
    if (options.systems > 0)
      throw giga::ConfigError(
          "--systems applies to a config; a .mlir module's batch is already "
          "one system's, and its giga.run attribute's num_systems says how "
          "many systems run it (" +
          options.input + ")");
  } else {
    giga::Config parsed = giga::loadConfig(options.input);
    if (options.systems > 0) {
      if (parsed.run.batchSize % options.systems != 0)
        throw giga::ConfigError(
            options.input + ": --systems " + std::to_string(options.systems) +
            " does not divide run.batch_size " +
            std::to_string(parsed.run.batchSize) +
            ": each system trains an equal share of the batch; choose a "
            "batch that the systems divide");
      parsed.run.numSystems = options.systems;
    }
    if (options.task == "generate")
      module = giga::buildGptGenerator(context, parsed,
                                       generationShape(options, parsed));
    else
      module = giga::buildGpt(context, parsed);
    config = parsed.toJson();
    if (mlir::failed(mlir::verify(*module)))
      throw compileFailure(
          kInternalError, "the frontend built invalid IR for " + options.input);
  }
  // On the user's own IR every failure is theirs to fix; on IR gigac built
  // from a config only fitting the target can be.
  ExitCode passFailure = fromMlir ? kUserError : kInternalError;
  std::string emit = options.emit;

  auto finish = [&](const std::string &stage) {
    if (emit != stage)
      return false;
    std::string text;
    llvm::raw_string_ostream os(text);
    module->print(os);
    if (options.output.empty() || options.output == "-")
      std::cout << text;
    else
      giga::writeFileAtomically(options.output, text);
    return true;
  };
  if (finish("forward"))
    return kOk;
  if (options.task == "generate" && emit == "giga")
    throw giga::ConfigError("--emit=giga is the training step's; with --task "
                            "generate use --emit=forward or --emit=wafer");

  runPipeline(*module, context, options,
              emit == "giga" ? giga::CompileStage::Giga
                             : giga::CompileStage::Wafer,
              target.name, passFailure);
  if (finish("giga") || finish("wafer"))
    return kOk;

  mlir::FailureOr<giga::artifact::Artifact> artifact =
      giga::buildArtifact(*module, config, target.toJson());
  if (mlir::failed(artifact))
    throw compileFailure(passFailure, "writing the artifact failed");
  if (options.report)
    std::cout << giga::artifact::formatReport(*artifact);
  if (!options.output.empty())
    giga::artifact::writeArtifact(options.output, *artifact);
  return kOk;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"gigac: compiles a GPT training step for a dataflow wafer.\n\n"
               "Examples:\n"
               "  gigac compile configs/gpt-111m.json -o step.wafer\n"
               "  gigac compile configs/gpt-175b.json --report\n"
               "  gigac compile configs/gpt-tiny.json --emit=giga\n"
               "  gigac compile model.mlir -o step.wafer   (any model in the "
               "giga dialect)\n"
               "  gigac compile configs/gpt-small.json --task generate -o "
               "gen.wafer\n"};
  app.require_subcommand(1);
  CompileOptions options;
  CLI::App *compileCommand = app.add_subcommand(
      "compile", "compile a model config (JSON) or a giga-dialect module "
                 "(.mlir) into a training step");
  compileCommand
      ->add_option("input", options.input,
                   "configs/gpt-<size>.json, or a .mlir module whose loss "
                   "function is marked giga.loss")
      ->required();
  compileCommand
      ->add_option("--emit", options.emit,
                   "print IR instead of writing an artifact: 'forward' (the "
                   "frontend's forward pass and loss), 'giga' (the whole "
                   "training step, micro-batched for --wafer: forward, "
                   "backward, optimizer), 'wafer' "
                   "(per-layer kernels, placement and buffer plan)")
      ->check(CLI::IsMember({"forward", "giga", "wafer"}));
  compileCommand->add_option(
      "-o,--output", options.output,
      "the artifact (step.wafer), or with --emit the IR ('-' for stdout); "
      "written whole or not at all");
  compileCommand
      ->add_option("--wafer", options.wafer,
                   "the target: wse2, wse3, host, or a target JSON file")
      ->capture_default_str();
  compileCommand
      ->add_option(
          "--loss-chunk", options.lossChunk,
          "vocabulary columns of logits computed at a time by the "
          "fused output head and loss (giga.linear_cross_entropy); "
          "0 keeps the head and loss apart, with whole logits (which "
          "gigarun --trace-step then records). Default: the "
          "target's loss_chunk: 2048 on wse2 and wse3; on host 512, for "
          "heads up to 256 wide (loss_fusion_max_width)")
      ->check(CLI::NonNegativeNumber);
  compileCommand
      ->add_option("--task", options.task,
                   "train: the training step (train_step, eval_step); "
                   "generate: the forward pass as prefill (a prompt, a "
                   "chunk at a time) and decode (one token) over a KV cache, "
                   "for gigarun sample")
      ->check(CLI::IsMember({"train", "generate"}))
      ->capture_default_str();
  compileCommand
      ->add_option("--batch", options.generation.batch,
                   "--task generate: samples generated together")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20))
      ->capture_default_str();
  compileCommand
      ->add_option("--prefill-chunk", options.generation.prefillChunk,
                   "--task generate: prompt tokens per prefill call (at most "
                   "the context)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20))
      ->capture_default_str();
  compileCommand
      ->add_option("--context", options.generation.context,
                   "--task generate: positions the KV cache holds, at most "
                   "max_position_embeddings (default: the config's "
                   "run.sequence_length, what the model was trained on)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 24));
  compileCommand
      ->add_option("--systems", options.systems,
                   "data-parallel systems to split the batch over (default: "
                   "the config's run.num_systems, 1 if absent); run the "
                   "artifact with mpirun -np N gigarun")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 16));
  compileCommand->add_flag(
      "--report", options.report,
      "print per-kernel placement, memory and estimated time, and totals");
  compileCommand->add_option("--dump-ir", options.dumpIrDir,
                             "write the IR after every pass into this "
                             "directory");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp &help) {
    return app.exit(help);
  } catch (const CLI::ParseError &error) {
    // CLI11 says "A subcommand is required" without the word it got.
    std::string first = argc > 1 ? argv[1] : "";
    if (!first.empty() && first[0] != '-' && first != "compile")
      std::cerr << "gigac: error: unknown command '" << first
                << "'; the command is compile (gigac compile CONFIG -o "
                   "step.wafer)\n";
    else
      std::cerr << "gigac: error: " << error.what() << "\n";
    std::cerr << "Run 'gigac compile --help' for usage.\n";
    return kUserError;
  }
  if (options.emit.empty() && options.output.empty() && !options.report) {
    std::cerr << "gigac: error: nothing to do: give -o FILE.wafer for the "
                 "artifact, --report for the cost estimate, or --emit=giga|"
                 "wafer to print IR\n";
    return kUserError;
  }

  if (!options.dumpIrDir.empty()) {
    // MLIR's IR printer would report each file it cannot create and carry
    // on with exit 0: make sure the directory is there first.
    std::error_code error;
    std::filesystem::create_directories(options.dumpIrDir, error);
    if (error || !std::filesystem::is_directory(options.dumpIrDir)) {
      std::cerr << "gigac: error: --dump-ir " << options.dumpIrDir
                << ": cannot make it a directory ("
                << (error ? error.message() : "a file is in the way")
                << "); give a directory, which is created if missing\n";
      return kUserError;
    }
  }
  return giga::runMain("gigac", [&] { return compile(options); });
}
