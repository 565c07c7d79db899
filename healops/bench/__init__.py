"""Benchmarks that print figures: `healops bench NAME`."""
