"""nn's LSTM/GRU checkpoints load into torch.nn.LSTM / GRU / LSTMCell / GRUCell by name.

Two jobs:

  python nn/tools/recurrent_checkpoint.py names
      writes nn/tests/data/recurrent_state_dict.json: for each model the Rust test
      `recurrent::checkpoint_names_shapes_and_dtypes_are_pytorchs` builds, the names, shapes and
      dtypes of the PyTorch module's `state_dict()` (the Rust test checks a file written by
      `nn::checkpoint::save` against this list, with no Python).

  python nn/tools/recurrent_checkpoint.py check [DIR]
      runs `cargo run --release -p wengert-nn --example recurrent_checkpoint -- DIR` (unless DIR
      already holds its files), then for each model: `safetensors.torch.load_file` the
      checkpoint, `load_state_dict(strict=True)` into a fresh PyTorch module, run it on the
      input and initial state the example saved, and compare with the outputs and final state
      the Rust model computed (float64: to 1e-12; float32: to 1e-5).

Run with /work/scratch-venv/bin/python (torch, safetensors).
"""

import json
import pathlib
import subprocess
import sys
import tempfile

import torch

ROOT = pathlib.Path(__file__).resolve().parents[2]

# name → (constructor, is_cell); the same models as the Rust test and example.
MODELS = {
    "lstm": (lambda: torch.nn.LSTM(3, 5, 2), False),
    "gru": (lambda: torch.nn.GRU(3, 5, 2), False),
    "lstm_no_bias": (lambda: torch.nn.LSTM(3, 5, 1, bias=False), False),
    "lstm_cell": (lambda: torch.nn.LSTMCell(3, 5), True),
    "gru_cell": (lambda: torch.nn.GRUCell(3, 5), True),
}


def names():
    out = {}
    for name, (make, _) in MODELS.items():
        module = make()
        out[name] = [
            {"name": k, "shape": list(v.shape), "dtype": str(v.dtype).removeprefix("torch.")}
            for k, v in module.state_dict().items()
        ]
    path = ROOT / "nn" / "tests" / "data" / "recurrent_state_dict.json"
    path.write_text(json.dumps({"torch": torch.__version__, "script": "nn/tools/recurrent_checkpoint.py",
                                "models": out}, indent=1))
    print(f"wrote {path}")


def check(directory):
    from safetensors.torch import load_file

    directory = pathlib.Path(directory)
    if not (directory / "lstm.safetensors").exists():
        subprocess.run(["cargo", "run", "--release", "-q", "-p", "wengert-nn", "--example",
                        "recurrent_checkpoint", "--", str(directory)], cwd=ROOT, check=True)
    failures = 0
    for dtype, suffix, tolerance in [(torch.float64, "", 1e-12), (torch.float32, "_f32", 1e-5)]:
        for name, (make, is_cell) in MODELS.items():
            module = make().to(dtype)
            state = load_file(directory / f"{name}{suffix}.safetensors")
            module.load_state_dict(state, strict=True)
            io = load_file(directory / f"{name}{suffix}_io.safetensors")
            with torch.no_grad():
                if is_cell:
                    x = io["input"]
                    if "c0" in io:
                        h, c = module(x, (io["h0"], io["c0"]))
                        got = {"h_n": h, "c_n": c}
                    else:
                        got = {"h_n": module(x, io["h0"])}
                else:
                    initial = (io["h0"], io["c0"]) if "c0" in io else io["h0"]
                    output, final = module(io["input"], initial)
                    got = {"output": output}
                    if isinstance(final, tuple):
                        got.update(h_n=final[0], c_n=final[1])
                    else:
                        got["h_n"] = final
            for key, value in got.items():
                difference = (value - io[key]).abs().max().item()
                scale = io[key].abs().max().item()
                ok = difference <= tolerance * max(scale, 1.0)
                failures += not ok
                print(f"{name}{suffix:4} {key:6} max |torch − nn| = {difference:.2e}  {'ok' if ok else 'FAIL'}")
    if failures:
        sys.exit(f"{failures} comparisons failed")
    print("every checkpoint loads into PyTorch by name and gives nn's outputs")


if __name__ == "__main__":
    job = sys.argv[1] if len(sys.argv) > 1 else "check"
    if job == "names":
        names()
    elif job == "check":
        check(sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="wengert-recurrent-"))
    else:
        sys.exit(__doc__)
