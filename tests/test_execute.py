"""Headless notebook runs with papermill: results, faults and secret scrubbing (labkit/execute.py)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from labkit.execute import (
    CellFailedError,
    CellTimeoutError,
    KernelDiedError,
    KernelNotFoundError,
    SecretParameterError,
    run_notebook,
    scrub_secrets,
    scrub_text,
)
from labkit.notebooks import NotebookError, read_notebook

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "notebooks"


def _outputs_text(path: Path) -> str:
    nb = read_notebook(path)
    return "\n".join(str(output) for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs)


@pytest.mark.slow
def test_passing_notebook_with_a_parameter(tmp_path: Path) -> None:
    """An injected parameter reaches the kernel and a clean run has no error."""
    out = tmp_path / "out" / "passing.ipynb"
    result = run_notebook(FIXTURES / "passing.ipynb", out, parameters={"greeting": "bonjour", "repeat": 2})
    assert result.ok
    assert result.error is None
    assert result.failed_cell is None
    assert result.output_path == out
    assert result.duration > 0
    result.raise_for_error()
    assert "bonjour bonjour" in _outputs_text(out)


@pytest.mark.slow
def test_failing_cell_is_reported_and_the_notebook_written(tmp_path: Path) -> None:
    """A raising cell gives CellFailedError with its index and first line; the output holds the error."""
    out = tmp_path / "failing.ipynb"
    result = run_notebook(FIXTURES / "failing.ipynb", out, parameters={})
    error = result.error
    assert isinstance(error, CellFailedError)
    assert result.failed_cell == error.cell == 2
    assert error.ename == "KeyError"
    assert error.evalue == "'missing'"
    assert str(error) == (
        f"{FIXTURES / 'failing.ipynb'}, cell 2 ('values = {{}}'): the cell raised KeyError: 'missing'"
    )
    assert "Traceback" not in str(error)
    assert "KeyError" in _outputs_text(out)
    assert "never reached" not in _outputs_text(out)
    with pytest.raises(CellFailedError):
        result.raise_for_error()


@pytest.mark.slow
def test_cell_timeout(tmp_path: Path) -> None:
    """A cell running past the per-cell timeout gives CellTimeoutError naming that cell."""
    result = run_notebook(FIXTURES / "forever.ipynb", tmp_path / "out.ipynb", parameters={}, cell_timeout=2)
    assert isinstance(result.error, CellTimeoutError)
    assert result.error.cell == 1
    assert "cell 1 ('while True:')" in str(result.error)
    assert "within 2 s" in str(result.error)
    assert (tmp_path / "out.ipynb").exists()


@pytest.mark.slow
def test_kernel_that_dies(tmp_path: Path) -> None:
    """A cell that kills its kernel gives KernelDiedError naming that cell."""
    result = run_notebook(FIXTURES / "dying.ipynb", tmp_path / "out.ipynb", parameters={}, cell_timeout=30)
    assert isinstance(result.error, KernelDiedError)
    assert result.error.cell == 1
    assert "cell 1 ('import os'): the kernel died while running the cell" in str(result.error)
    assert "never reached" not in _outputs_text(tmp_path / "out.ipynb")


def test_missing_kernelspec(tmp_path: Path) -> None:
    """An unknown kernel name raises KernelNotFoundError before anything runs."""
    with pytest.raises(KernelNotFoundError, match="no Jupyter kernel named 'no-such-kernel'") as caught:
        run_notebook(
            FIXTURES / "passing.ipynb", tmp_path / "out.ipynb", parameters={}, kernel_name="no-such-kernel"
        )
    assert caught.value.kernel_name == "no-such-kernel"
    assert not (tmp_path / "out.ipynb").exists()


def test_invalid_json(tmp_path: Path) -> None:
    """A notebook file that is not JSON raises NotebookError naming the file."""
    with pytest.raises(NotebookError, match=r"invalid\.ipynb: is not valid JSON"):
        run_notebook(FIXTURES / "invalid.ipynb", tmp_path / "out.ipynb", parameters={})


def test_secret_parameter_is_refused(tmp_path: Path) -> None:
    """A parameter named or shaped like a credential is refused: papermill would store it."""
    with pytest.raises(SecretParameterError, match="parameter 'db_password'"):
        run_notebook(FIXTURES / "passing.ipynb", tmp_path / "o.ipynb", parameters={"db_password": "x"})
    with pytest.raises(SecretParameterError, match="parameter 'greeting'"):
        run_notebook(
            FIXTURES / "passing.ipynb", tmp_path / "o.ipynb", parameters={"greeting": "AKIALABKITSANDBOX000"}
        )


@pytest.mark.slow
def test_secrets_scrubbed_from_saved_notebook(tmp_path: Path) -> None:
    """Access key ids, a secret access key and a password printed by a cell never reach the saved file."""
    out = tmp_path / "secrets.ipynb"
    result = run_notebook(FIXTURES / "secrets.ipynb", out, parameters={"label": "scrub"})
    assert result.ok
    saved = out.read_text()
    for secret in ("AKIAIOSFODNN7EXAMPLE", "AKIALABKITSANDBOX000", "hunter2", "wJalrXUtnFEMI"):
        assert secret not in saved
    assert "password=***" in saved
    assert result.secrets_scrubbed == 4


class TestScrubSecrets:
    def test_scrub_text_patterns(self) -> None:
        """Each kind of credential is replaced by *** and counted; ordinary text is left alone."""
        text, count = scrub_text(
            "id ASIAABCDEFGHIJKLMNOP, aws_secret_access_key = abcdEFGH1234/+xyz, "
            "token=eyJhbGciOi and session_token: FwoGZXIvYXdzEJr//////////, nothing else"
        )
        assert text == ("id ***, aws_secret_access_key = ***, token=*** and session_token: ***, nothing else")
        assert count == 4
        assert scrub_text("AKIA is a prefix; cluster nginx-lab") == ("AKIA is a prefix; cluster nginx-lab", 0)

    def test_outputs_and_papermill_metadata(self) -> None:
        """Outputs, papermill's stored parameters and the injected parameters cell are scrubbed."""
        injected = new_code_cell('api_token = "s3cr3t"\nkey = "AKIALABKITSANDBOX000"')
        injected.metadata["tags"] = ["injected-parameters"]
        printed = new_code_cell("print(x)")
        printed.outputs = [
            new_output("stream", name="stdout", text="password=hunter2\n"),
            new_output("execute_result", data={"text/plain": "'AKIALABKITSANDBOX000'"}, execution_count=1),
        ]
        nb = new_notebook(cells=[injected, printed])
        nb.metadata["papermill"] = {
            "parameters": {"api_token": "s3cr3t", "key": "AKIALABKITSANDBOX000", "n": 3}
        }
        assert scrub_secrets(nb) == 6
        assert nb.metadata["papermill"]["parameters"] == {"api_token": "***", "key": "***", "n": 3}
        assert "s3cr3t" not in injected.source
        assert "AKIALABKITSANDBOX000" not in injected.source
        assert printed.outputs[0]["text"] == "password=***\n"
        assert printed.outputs[1]["data"]["text/plain"] == "'***'"
        assert scrub_secrets(nb) == 0


@pytest.mark.slow
def test_a_kernel_reaches_loopback_without_the_callers_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With HTTP(S)_PROXY set, the kernel's NO_PROXY covers loopback (sandboxes, listeners); AWS settings stay."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "corp.example")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("AWS_PROFILE", "kept-for-aws-mode")
    source = tmp_path / "env.ipynb"
    source.write_text(
        nbformat.writes(
            new_notebook(
                cells=[
                    new_code_cell(
                        "import os, urllib.request\n"
                        "print(os.environ['NO_PROXY'], os.environ['no_proxy'], os.environ['AWS_PROFILE'])\n"
                        "print('bypass', urllib.request.proxy_bypass('127.0.0.1:8080'))"
                    )
                ],
                metadata={
                    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
                },
            )
        )
    )
    out = tmp_path / "env.out.ipynb"
    result = run_notebook(source, out, parameters={})
    result.raise_for_error()
    text = _outputs_text(out)
    assert (
        "corp.example,127.0.0.1,localhost,::1 corp.example,127.0.0.1,localhost,::1 kept-for-aws-mode" in text
    )
    assert "bypass True" in text


def _parameters_cell(source: str) -> NotebookNode:
    cell = new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    return cell


@pytest.mark.slow
class TestTheFailingCellIsTheOneThatFailed:
    """Cell indices and first lines are those of the learner's notebook, whatever papermill adds to its copy."""

    def run(
        self, tmp_path: Path, cells: list[NotebookNode], parameters: dict[str, object]
    ) -> CellFailedError:
        path = tmp_path / "learner.ipynb"
        nbformat.write(
            new_notebook(
                cells=cells,
                metadata={
                    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
                },
            ),
            path,
        )
        result = run_notebook(path, tmp_path / "out.ipynb", parameters=parameters)
        assert isinstance(result.error, CellFailedError)
        assert result.failed_cell == result.error.cell
        assert str(path) in str(result.error)
        return result.error

    def test_the_cell_right_after_the_parameters_cell(self, tmp_path: Path) -> None:
        """The first code cell after the `parameters` cell raises: that cell (2) is named, not the next."""
        error = self.run(
            tmp_path,
            [
                new_markdown_cell("# Lab"),
                _parameters_cell('sandbox_mode = "embedded"'),
                new_code_cell('raise ValueError("right after the parameters")'),
                new_code_cell("after = 1"),
            ],
            {"sandbox_mode": "server"},
        )
        assert error.cell == 2
        assert error.first_line == 'raise ValueError("right after the parameters")'
        assert "cell 2 ('raise ValueError(\"right after the parameters\")')" in str(error)

    def test_a_later_cell(self, tmp_path: Path) -> None:
        """A cell further down raises: its own index and first line."""
        error = self.run(
            tmp_path,
            [
                new_markdown_cell("# Lab"),
                _parameters_cell('sandbox_mode = "embedded"'),
                new_code_cell("first = 1"),
                new_markdown_cell("Now it breaks."),
                new_code_cell("\n# the failing one\nboom = 1 / 0"),
                new_code_cell("after = 1"),
            ],
            {"sandbox_mode": "server"},
        )
        assert error.cell == 4
        assert error.first_line == "# the failing one"
        assert error.ename == "ZeroDivisionError"

    def test_the_first_cell_without_a_parameters_cell(self, tmp_path: Path) -> None:
        """No `parameters` cell (papermill injects at the top): the first cell is cell 0."""
        error = self.run(
            tmp_path,
            [new_code_cell('raise RuntimeError("first")'), new_code_cell("x = 1")],
            {"greeting": "hi"},
        )
        assert error.cell == 0
        assert error.first_line == 'raise RuntimeError("first")'

    def test_without_parameters(self, tmp_path: Path) -> None:
        """Nothing injected: the failing cell's own index."""
        error = self.run(
            tmp_path,
            [_parameters_cell("a = 1"), new_code_cell("b = 2"), new_code_cell('raise KeyError("k")')],
            {},
        )
        assert error.cell == 2
        assert error.first_line == 'raise KeyError("k")'


@pytest.mark.slow
def test_no_kernel_transport_warning_reaches_the_caller_or_the_log(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The kernel's ZMQ sockets are CurveZMQ-encrypted (jupyter_client's `transport_encryption`), so
    ipykernel's "running over TCP without encryption" warning is printed nowhere; what the kernel
    really writes to its stderr still lands in its log, and the kernel still runs and answers."""
    import zmq

    if not zmq.has("curve"):
        pytest.skip("this pyzmq has no CurveZMQ: the kernel runs unencrypted and warns in its log")
    source = tmp_path / "noisy.ipynb"
    source.write_text(
        nbformat.writes(
            new_notebook(
                cells=[
                    new_code_cell("import os\nos.write(2, b'a-real-error-on-fd-2\\n')\nprint('answered')")
                ],
                metadata={
                    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
                },
            )
        )
    )
    out = tmp_path / "noisy.out.ipynb"
    run_notebook(source, out, parameters={}).raise_for_error()
    assert "answered" in _outputs_text(out)
    captured = capfd.readouterr()
    log = (tmp_path / "noisy.out.ipynb.kernel.log").read_text()
    for text in (captured.out, captured.err, log):
        assert "without encryption" not in text
        assert "IPKernelApp" not in text
    assert "a-real-error-on-fd-2" in log
