//===- StoreError.h - errors of the weight store and its files --*- C++ -*-===//
#ifndef GIGA_RUNTIME_STORE_STOREERROR_H
#define GIGA_RUNTIME_STORE_STOREERROR_H

#include "runtime/support/Error.h"

namespace giga::store {

/// A store, checkpoint or safetensors file that cannot be created, read or
/// written; names the path.
class StoreError : public Error {
public:
  using Error::Error;
};

} // namespace giga::store

#endif // GIGA_RUNTIME_STORE_STOREERROR_H
