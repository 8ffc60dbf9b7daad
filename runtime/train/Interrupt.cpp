//===- Interrupt.cpp - Ctrl-C keeps the run's progress --------------------===//
#include "runtime/train/Interrupt.h"

#include <csignal>
#include <unistd.h>

namespace giga::train {

namespace {
volatile std::sig_atomic_t received = 0;
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
struct sigaction previous[3];

extern "C" void onSignal(int number) {
  received = number;
  // Only async-signal-safe calls here: one write(2) of a fixed line.
  static const char message[] =
      "\ngigarun: interrupted: finishing this step, then writing a "
      "checkpoint; press Ctrl-C again to quit at once\n";
  ssize_t ignored = ::write(STDERR_FILENO, message, sizeof message - 1);
  (void)ignored;
}
} // namespace

InterruptGuard::InterruptGuard() {
  received = 0;
  struct sigaction action = {};
  action.sa_handler = onSignal;
  sigemptyset(&action.sa_mask);
  // One-shot, so that a second signal takes the default action; SA_RESTART,
  // so that reads and writes under way are not cut short by it.
  action.sa_flags = SA_RESETHAND | SA_RESTART;
  for (int i = 0; i < 3; ++i)
    ::sigaction(kSignals[i], &action, &previous[i]);
}

InterruptGuard::~InterruptGuard() {
  for (int i = 0; i < 3; ++i)
    ::sigaction(kSignals[i], &previous[i], nullptr);
}

int InterruptGuard::signal() const { return received; }

const char *signalName(int signal) {
  return signal == SIGINT    ? "SIGINT"
         : signal == SIGTERM ? "SIGTERM"
         : signal == SIGHUP  ? "SIGHUP"
                             : "a signal";
}

} // namespace giga::train
