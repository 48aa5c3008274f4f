"""Backtests on real data and benchmarks."""
