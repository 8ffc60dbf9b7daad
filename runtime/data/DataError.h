//===- DataError.h - errors of the token data library ------------*- C++
//-*-===//
//
// Every failure in runtime/data is a user-facing problem (a missing file, a
// bad hash, an unwritable folder), so it is reported as one exception whose
// message already names the file and says how to fix it; tools print it and
// exit with status 1.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_DATA_DATAERROR_H
#define GIGA_RUNTIME_DATA_DATAERROR_H

#include "runtime/support/Error.h"
#include <string>

namespace giga::data {

class DataError : public giga::Error {
public:
  using Error::Error;
};

} // namespace giga::data

#endif // GIGA_RUNTIME_DATA_DATAERROR_H
