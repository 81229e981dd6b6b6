"""PyTorch's own settings for `lstm_speed.py`'s step, side by side in one process: the default
(oneDNN on, `foreach` Adam), oneDNN off, and fused Adam (BENCHMARKS.md history, "LSTM speed
(session 15)": the peer keeps the default, its fastest here).

    taskset -c 1 /work/scratch-venv/bin/python benches/torch-reference/lstm_settings.py
"""
import time, statistics, torch, sys
torch.set_num_threads(1); torch.manual_seed(0)
T,N,I,H=32,64,8,64
def run(label, mkldnn=True, fused=False):
    lstm=torch.nn.LSTM(I,H,1); adam=torch.optim.Adam(lstm.parameters(), fused=fused)
    x=torch.rand(T,N,I)*2-1; target=torch.rand(T,N,H)*2-1
    def step():
        adam.zero_grad(set_to_none=True); out,_=lstm(x)
        loss=torch.nn.functional.mse_loss(out,target); loss.backward(); adam.step()
    with torch.backends.mkldnn.flags(enabled=mkldnn):
        for _ in range(20): step()
        s=[]
        for _ in range(60):
            t=time.perf_counter()
            for _ in range(10): step()
            s.append((time.perf_counter()-t)/10)
    print(label, f"{statistics.median(s)*1e3:.3f} ms")
run("default"); run("mkldnn off", mkldnn=False); run("adam fused", fused=True); run("default again")
