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

#include <stdexcept>
#include <string>

namespace giga::data {

class DataError : public std::runtime_error {
public:
  explicit DataError(const std::string &message)
      : std::runtime_error(message) {}
};

} // namespace giga::data

#endif // GIGA_RUNTIME_DATA_DATAERROR_H
