"""Scan and anonymize on Apache Spark (``--engine spark``; ``pip install 'govkit[spark]'``).

The same code decides as in a local run; only where it runs changes:

* :mod:`.session` finds Java and pyspark and starts (or joins) a session on the master
  named by ``--master``, ``SPARK_MASTER`` or spark-submit, with one-line errors for each
  thing that can be missing;
* :mod:`.scan` counts pattern hits inside ``mapPartitions`` on the executors, picks the
  same seeded reservoir a local ``--full`` scan keeps, and classifies it in one task per
  table; the driver receives counts, masked evidence and verdicts, never a raw value;
* :mod:`.anonymize` applies the plan's operators (the local
  :class:`~govkit.actions.anonymize.export.Transformer`) to each partition and writes
  Parquet (or Delta), then verifies the output like a local export;
* :mod:`.jdbc` reads ``jdbc:`` tables: the driver class, secrets masked in messages, and a
  large table split into ranges of an integer column (``--split-column``,
  ``--rows-per-partition``), read in parallel;
* :mod:`.worker` holds what runs on the executors: a per-process cache of the detection
  engine (loaded once per executor Python worker) and the partition functions.

Nothing here is imported unless ``--engine spark`` is given, so ``govkit --help`` never
loads pyspark (see docs/spark.md).
"""
