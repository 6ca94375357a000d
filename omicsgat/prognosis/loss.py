"""Cox partial likelihood (Breslow or Efron ties) for a fixed set of survival labels.

Training is full-batch on cohorts of at most a few thousand samples, so the
risk-set bookkeeping (sorting, tie groups) is done once in NumPy when the
labels are fixed and the per-epoch loss is a few vectorised torch ops.
"""

from __future__ import annotations

import numpy as np

from omicsgat.errors import OmicsInputError

TIES = ("efron", "breslow")


class CoxLoss:
    """Negative Cox log partial likelihood, averaged over events.

    ``CoxLoss(time, event, ties="efron")(eta)`` where ``eta`` is the log-risk
    of the same samples in the same order. Efron is lifelines' default, so the
    value equals ``-CoxPHFitter.log_likelihood_ / n_events`` at the same
    coefficients.
    """

    def __init__(self, time: np.ndarray, event: np.ndarray, ties: str = "efron", device=None) -> None:
        import torch

        if ties not in TIES:
            raise OmicsInputError(f"Unknown ties method {ties!r}: use 'efron' or 'breslow'.")
        time = np.asarray(time, dtype=float)
        event = np.asarray(event).astype(bool)
        if not event.any():
            raise OmicsInputError("The Cox loss needs at least one event in the training samples.")
        order = np.argsort(-time, kind="stable")  # descending: risk sets are prefixes
        t_sorted = time[order]
        # risk set of an event time u = every sample with time >= u = prefix up to the last index with t == u
        event_times, n_tied = np.unique(time[event], return_counts=True)
        last_in_riskset = np.searchsorted(-t_sorted, -event_times, side="right") - 1
        group_of_event = np.searchsorted(event_times, time[event])
        # Efron: the l-th of d tied deaths removes l/d of the tied risk from the risk set
        frac = np.zeros(int(event.sum()))
        if ties == "efron":
            seen: dict[int, int] = {}
            for i, g in enumerate(group_of_event):
                frac[i] = seen.get(g, 0) / n_tied[g]
                seen[g] = seen.get(g, 0) + 1
        as_long = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.long, device=device)  # noqa: E731
        self.order = as_long(order)
        self.last = as_long(last_in_riskset)
        self.event_idx = as_long(np.flatnonzero(event))
        self.group = as_long(group_of_event)
        self.frac = torch.as_tensor(frac, dtype=torch.float32, device=device)
        self.n_groups = len(event_times)
        self.n_events = int(event.sum())

    def __call__(self, eta):
        import torch

        eta = eta.reshape(-1).double()  # float64: risk sets spanning exp(±100) stay finite
        log_riskset = torch.logcumsumexp(eta[self.order], 0)[self.last]  # per event time
        ev_eta = eta[self.event_idx]
        log_tied = torch.full((self.n_groups,), -torch.inf, dtype=eta.dtype, device=eta.device).scatter_reduce(
            0, self.group, ev_eta, reduce="amax"
        )
        tied = torch.zeros_like(log_tied).index_add(0, self.group, torch.exp(ev_eta - log_tied[self.group]))
        log_tied = log_tied + torch.log(tied)
        # log(R - f T) = log R + log1p(-f T / R), with T <= R
        ratio = torch.exp(log_tied[self.group] - log_riskset[self.group])
        log_denom = log_riskset[self.group] + torch.log1p(-self.frac.double() * ratio)
        return -(ev_eta.sum() - log_denom.sum()) / self.n_events
