"""⑤ Lead scoring: rules as code and a calibrated predictive model, backtested side by side."""
