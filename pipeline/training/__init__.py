"""How a model is made and judged: training tables, time splits, fitting, evaluation, the MLflow run."""
