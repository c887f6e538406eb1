"""Execution engines other than this process: where a scan or an export runs.

The default engine is govkit itself (one process, worker processes up to the cores). An
engine here runs the same detection and the same operators somewhere else, and hands the
same results back: :mod:`govkit.engines.spark` runs them on Apache Spark.
"""
