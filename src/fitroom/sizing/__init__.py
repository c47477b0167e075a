"""Size recommendation: charts, fit per zone, estimates of missing measurements."""
