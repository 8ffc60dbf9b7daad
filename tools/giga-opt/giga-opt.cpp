//===- giga-opt.cpp - runs giga's passes one at a time, for lit tests -----===//
#include "compiler/Passes.h"
#include "dialects/giga/GigaDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  giga::registerCompilerPasses();
  mlir::DialectRegistry registry;
  registry.insert<giga::GigaDialect, wafer::WaferDialect,
                  mlir::func::FuncDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "giga optimizer driver\n", registry));
}
