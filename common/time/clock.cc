#include "common/time/clock.h"

namespace llmgate::time {

const RealClock& RealClock::instance() {
  static const RealClock clock;
  return clock;
}

}  // namespace llmgate::time
