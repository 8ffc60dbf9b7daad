//===- GigaDialect.cpp - the giga dialect ---------------------------------===//
#include "dialects/giga/GigaDialect.h"

using namespace mlir;
using namespace giga;

#include "dialects/giga/GigaDialect.cpp.inc"
#include "dialects/giga/GigaEnums.cpp.inc"
#include "dialects/giga/GigaInterfaces.cpp.inc"

void GigaDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/giga/GigaOps.cpp.inc"
      >();
}
