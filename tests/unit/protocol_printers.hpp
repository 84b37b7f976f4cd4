// doctest prints enums as numbers unless an overload found by ADL says
// otherwise: the protocol's enums by name, for every test that checks them.
#pragma once

#include <doctest/doctest.h>

#include "protocol/error_code.hpp"
#include "protocol/messages.hpp"

namespace meshmeet::protocol {
inline doctest::String toString(ErrorCode code) {
  const auto text = to_string(code);
  return doctest::String(text.data(), static_cast<doctest::String::size_type>(text.size()));
}
inline doctest::String toString(LeaveReason reason) {
  const auto text = to_string(reason);
  return doctest::String(text.data(), static_cast<doctest::String::size_type>(text.size()));
}
}  // namespace meshmeet::protocol
