"""How a model is made and judged: training tables, the rolling backtest, the deployed
model, the champion decision, evaluation, the MLflow run."""
