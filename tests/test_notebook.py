"""The walkthrough notebook runs top to bottom without an error (nbclient, a real kernel)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01-walkthrough.ipynb"
KERNEL = "python3"


def _runs_this_python(argv: list[str]) -> bool:
    """Whether a kernelspec's command starts this interpreter.

    jupyter_client replaces a bare ``python`` / ``python3`` / ``python3.X`` by ``sys.executable``.
    """
    if not argv:
        return False
    bare = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    if argv[0] in bare:
        return True
    try:
        return Path(argv[0]).resolve() == Path(sys.executable).resolve()
    except OSError:
        return False


def _kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """``python3`` running this interpreter: the installed kernelspec if it does, else our own.

    A ``python3`` kernelspec of another interpreter (a user-level Jupyter install, say) would
    not have leadscore installed, so a spec pointing at ``sys.executable`` is written to a
    temporary folder and put first on ``JUPYTER_PATH``.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        if _runs_this_python(KernelSpecManager().get_kernel_spec(KERNEL).argv):
            return KERNEL
    except NoSuchKernel:
        pass
    folder = tmp_path / "jupyter" / "kernels" / KERNEL
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (leadscore tests)",
                "language": "python",
            }
        )
    )
    previous = os.environ.get("JUPYTER_PATH")
    monkeypatch.setenv(
        "JUPYTER_PATH", os.pathsep.join(filter(None, [str(tmp_path / "jupyter"), previous]))
    )
    return KERNEL


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.slow
def test_walkthrough_runs_top_to_bottom(tmp_path, monkeypatch):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    work = tmp_path / "work"
    monkeypatch.setenv("LEADSCORE_WALKTHROUGH_DIR", str(work))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    kernel = _kernel(tmp_path, monkeypatch)
    client = nbclient.NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell

    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.get("output_type") == "error"
    ]
    assert errors == []
    # Everything landed in the walkthrough folder, including a private MLflow store.
    assert (work / "mlflow.db").is_file()
    assert (work / "scores.parquet").is_file()
    page = (work / "report.html").read_text(encoding="utf-8")
    assert "Example leads" in page and 'src="http' not in page
    assert not (tmp_path / "mlflow.db").exists()
    # A chart was drawn inline.
    assert any(
        "image/png" in out.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    )
