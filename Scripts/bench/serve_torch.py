"""The server a PyTorch user writes for the W4 CNN (Examples/configs/fashion_cnn.yaml): FastAPI + uvicorn + PyTorch,
the same TF-Serving row format as `nabla serve`, one worker process, torch.set_num_threads(THREADS).

    PYTHON serve_torch.py WEIGHTS.safetensors PORT [THREADS]

WEIGHTS is the config model's state dict (`runs/NAME/model.safetensors`, PyTorch names `0.weight`, ...), so both
servers compute the same function. Malformed bodies get 400 (FastAPI validation), as in `nabla serve`.
Installed by Scripts/bench/serve_bench.sh into a venv outside the repository.
"""
import sys

import torch
import uvicorn
from fastapi import FastAPI, HTTPException, Request
from safetensors.torch import load_file

weights, port = sys.argv[1], int(sys.argv[2])
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
torch.set_num_threads(threads)

model = torch.nn.Sequential(
    torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Flatten(), torch.nn.Linear(3136, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
model.load_state_dict(load_file(weights))
model.eval()

app = FastAPI()


@app.post("/v1/models/fashion:predict")
async def predict(request: Request):
    try:
        body = await request.json()
        x = torch.tensor(body["instances"], dtype=torch.float32)
        if x.dim() != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"expected instances of shape [1, 28, 28], got {list(x.shape[1:])}")
    except Exception as e:  # noqa: BLE001 - any bad body is the client's error
        raise HTTPException(status_code=400, detail=str(e))
    with torch.inference_mode():
        y = model(x)
    return {"predictions": y.tolist()}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, log_level="warning", access_log=False)
