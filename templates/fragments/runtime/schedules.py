"""Learning-rate schedules."""

from paddle.optimizer import lr as lr_schedules


class WarmupLR(lr_schedules.LRScheduler):
    """A linear warm-up from warmup_start_lr to the base rate over warmup_iters, then the
    subclass's `decayed_lr(t)`, t counting iterations after the warm-up (as Paddle's
    LinearWarmup restarts the schedule it wraps)."""

    def __init__(self, learning_rate, warmup_iters=0, warmup_start_lr=0.0):
        self.warmup_iters = warmup_iters
        self.warmup_start_lr = warmup_start_lr
        super().__init__(learning_rate)

    def get_lr(self):
        step = self.last_epoch
        if step < self.warmup_iters:
            progress = step / self.warmup_iters
            return self.warmup_start_lr + (self.base_lr - self.warmup_start_lr) * progress
        return self.decayed_lr(step - self.warmup_iters)

    def decayed_lr(self, t):
        raise NotImplementedError


class PolynomialLR(WarmupLR):
    """Linear warm-up, then polynomial decay to `end_lr` at `decay_steps`.

    lr = (base - end_lr) * (1 - t / T) ** power + end_lr, where t counts iterations
    after the warm-up and T = decay_steps - warmup_iters, so the schedule still ends
    at the last training iteration when there is a warm-up.
    """

    def __init__(
        self, learning_rate, decay_steps, end_lr=0.0, power=0.9, warmup_iters=0, warmup_start_lr=0.0
    ):
        self.decay_steps = decay_steps
        self.end_lr = end_lr
        self.power = power
        super().__init__(learning_rate, warmup_iters, warmup_start_lr)

    def decayed_lr(self, t):
        decay_span = max(self.decay_steps - self.warmup_iters, 1)
        progress = min(t, decay_span) / decay_span
        return (self.base_lr - self.end_lr) * (1 - progress) ** self.power + self.end_lr


class StepLR(WarmupLR):
    """Linear warm-up, then lr = base * gamma ** (t // step_size)."""

    def __init__(self, learning_rate, step_size, gamma=0.1, warmup_iters=0, warmup_start_lr=0.0):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(learning_rate, warmup_iters, warmup_start_lr)

    def decayed_lr(self, t):
        return self.base_lr * self.gamma ** (t // self.step_size)
