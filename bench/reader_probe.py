"""Go/no-go probe: does the packaged chat model (SmolLM2-135M on a real llama.cpp server) tell answerable
clinician questions from near misses, as a reader the gate could consult?

For each answerable or near-miss example that ``bench/gate_experiment.py collect`` pickled: the shipped sentence
scorer's best 2 sentences, then "Does the passage give the specific answer to the question? Reply yes or no.",
P(yes) read from the first token's log-probabilities; AUROC beside the shipped gate's (in sample on ``fit``)::

    python bench/reader_probe.py fit [test ...]

Stop 35: fit AUROC 0.547 (gate 0.95), 449 questions in 460 s on 2 cores. Nothing here is used at serving time.
"""

import math
import pickle
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from app.calibration.fit import gate_matrix  # noqa: E402
from app.query.abstain import AbstainModel, sigmoid  # noqa: E402
from app.query.generate.llamacpp import LlamaCppServer, packaged_model  # noqa: E402

model = AbstainModel.load(Path("app/query/calibration/abstain.json"))
d = pickle.load(open("var/gate/examples.pkl", "rb"))
sets, aux = d["sets"], d["aux"]
names = sys.argv[1:] or ["fit"]
srv = LlamaCppServer(packaged_model(), threads=2, ctx=2048).start()
hdr = {"Authorization": f"Bearer {srv.key}"}
try:
    for name in names:
        exs = [e for e in sets[name] if e.label == 1 or "near_miss" in e.tags]
        p_gate = np.array([sigmoid(z) for z in model.gate.logits(gate_matrix(exs, model.sentence))])
        ys, ps = [], []
        t0 = time.time()
        for e in exs:
            a = aux[e.case_id]
            sc = model.sentence.logits(e.X)
            top = [a.texts[i] for i in np.argsort(-sc)[:2]]
            prompt = ("Passage: " + " ".join(top) + "\n\nQuestion: " + e.question +
                      "\n\nDoes the passage give the specific answer to the question? Reply yes or no.")
            r = httpx.post(srv.base_url + "/chat/completions", headers=hdr, timeout=60, json={
                "model": "x", "messages": [{"role": "user", "content": prompt}], "max_tokens": 1, "temperature": 0,
                "logprobs": True, "top_logprobs": 10})
            lp = r.json()["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
            py = sum(math.exp(x["logprob"]) for x in lp if x["token"].strip().lower() == "yes")
            pn = sum(math.exp(x["logprob"]) for x in lp if x["token"].strip().lower() == "no")
            ps.append(py / (py + pn) if py + pn else 0.5)
            ys.append(e.label)
        ys, ps = np.array(ys), np.array(ps)
        print(name, len(ys), f"{time.time()-t0:.0f}s", "AUROC llm", round(roc_auc_score(ys, ps), 3),
              "gate", round(roc_auc_score(ys, p_gate), 3), "mean p(yes) ans/nm", ps[ys == 1].mean().round(3), ps[ys == 0].mean().round(3))
finally:
    srv.stop()
