"""The low-level layer under the features: how files are read (CSV dialects, event
sources, DuckDB connections, the Spark session), scratch files a killed run cannot leave
behind, SQL dialect primitives and lead-id look-ups. It knows nothing of what a lead is."""
