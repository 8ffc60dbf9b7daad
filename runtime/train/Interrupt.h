//===- Interrupt.h - Ctrl-C keeps the run's progress ------------*- C++ -*-===//
//
// While training, SIGINT, SIGTERM and SIGHUP do not kill gigarun: the first
// one is noted, the step under way finishes, a checkpoint is written and the
// run ends with 128 + the signal's number (130 for Ctrl-C, 143 for a plain
// kill). The handler is one-shot (SA_RESETHAND), so a second signal kills at
// once, as the default action does; checkpoints are written atomically, so
// even then none is left half-written.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_TRAIN_INTERRUPT_H
#define GIGA_RUNTIME_TRAIN_INTERRUPT_H

namespace giga::train {

/// Catches the three signals while it lives; restores the previous
/// handlers when it goes.
class InterruptGuard {
public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard &) = delete;
  InterruptGuard &operator=(const InterruptGuard &) = delete;

  /// The signal that arrived (SIGINT, SIGTERM or SIGHUP), or 0.
  int signal() const;
};

/// "SIGINT", "SIGTERM" or "SIGHUP".
const char *signalName(int signal);

} // namespace giga::train

#endif // GIGA_RUNTIME_TRAIN_INTERRUPT_H
