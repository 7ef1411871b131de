"""⑤ The quarter forecast (docs/forecast.md): where the quarter lands, learned from the ledger without
look-ahead, and its backtest against the naive run-rate and the reps' calls.

- :mod:`.snapshots`: the open pipeline as it stood on past days, and what became of it;
- :mod:`.rates`: stage-to-close rates, slippage and age bands learned from the same day of past quarters;
- :mod:`.landing`: ``won so far + weighted open pipeline + run-rate of pipeline not yet created``;
- :mod:`.backtest`: the landing at each week of past quarters against actuals and both baselines.
"""

from revalign.analytics.forecast.backtest import Backtest, backtest
from revalign.analytics.forecast.landing import QuarterLanding, last_known_day, quarter_landing

__all__ = ["Backtest", "QuarterLanding", "backtest", "last_known_day", "quarter_landing"]
