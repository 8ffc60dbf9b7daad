//===- ExecError.h - an artifact the executor cannot run --------*- C++ -*-===//
#ifndef GIGA_RUNTIME_EXEC_EXECERROR_H
#define GIGA_RUNTIME_EXEC_EXECERROR_H

#include "runtime/support/Error.h"

namespace giga::exec {

/// An artifact the executor cannot run (an unknown op, operands that do not
/// fit it, an id out of range); names the kernel, the op and the problem.
class ExecError : public Error {
public:
  using Error::Error;
};

} // namespace giga::exec

#endif // GIGA_RUNTIME_EXEC_EXECERROR_H
