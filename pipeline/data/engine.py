"""A failed Spark job, or input Spark cannot use, as one line for the user."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from leadscore.errors import DataError, EngineError
from leadscore.io.spark import SparkInputError


def first_cause(err: BaseException) -> str:
    """The root of a Spark failure in one line (the JVM's innermost ``Caused by``)."""
    text = str(err)
    causes = [x.split("Caused by:", 1)[1].strip() for x in text.splitlines() if "Caused by:" in x]
    line = causes[-1] if causes else next((x.strip() for x in text.splitlines() if x.strip()), "")
    return line[:300]


@contextmanager
def spark_errors(what: str) -> Iterator[None]:
    """A failed Spark job as one ``EngineError`` line naming ``what`` it was doing; input
    Spark cannot use as one ``DataError`` line."""
    try:
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException
    except ImportError:  # no pyspark: spark_session says so as a SparkInputError
        Py4JError = PySparkException = SparkInputError  # noqa: N806

    try:
        yield
    except SparkInputError as err:
        raise DataError(str(err)) from None
    except (PySparkException, Py4JError) as err:
        raise EngineError(f"spark: {what} failed ({first_cause(err)}); nothing written") from None
    except OSError as err:  # a local path that is not there, a folder that cannot be written
        raise DataError(f"spark: {what}: {err}; nothing written") from None
