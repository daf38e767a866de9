"""Fits one peer model (Surprise, implicit, LightFM, scikit-learn, scipy) on a split that recsys wrote, and exports
what recsys's evaluator needs: predictions for every test pair (rating task) or each test user's top-N items,
training items excluded (ranking task). Prints one JSON line: fit and predict wall seconds, or the error.

    python run_peers.py --task rating --model surprise.SVD --train train.tsv --test test.tsv --out preds.txt
    python run_peers.py --versions

Split files: tab-separated `user item value` with dense integer indices (the recsys Dataset's), one line each.
Metrics are NOT computed here: bench/peers.ts computes them with recsys's evaluate() on the exported lists, so
the metric definitions are identical on both sides. Called by bench/peers.ts (npm run bench:peers).
"""

import argparse
import json
import sys
import time

import numpy as np


def read_split(path):
    a = np.loadtxt(path, delimiter="\t", dtype=np.float64, ndmin=2)
    return a[:, 0].astype(np.int64), a[:, 1].astype(np.int64), a[:, 2].astype(np.float64)


def versions():
    import importlib.metadata as md

    out = {}
    for name in ["numpy", "scipy", "scikit-learn", "implicit", "scikit-surprise", "lightfm"]:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "missing"
    try:
        from threadpoolctl import threadpool_info

        blas = [f"{x.get('internal_api')} {x.get('version')} ({x.get('architecture')}, {x.get('num_threads')} threads)" for x in threadpool_info() if x.get("user_api") == "blas"]
        out["numpy BLAS"] = "; ".join(sorted(set(blas)))
    except Exception as e:  # threadpoolctl missing or failing: say so
        out["numpy BLAS"] = f"unknown ({e})"
    return out


# ---- rating (Surprise) ------------------------------------------------------------------------------------------

def surprise_algo(name):
    import surprise

    if name == "SVD":
        return surprise.SVD(random_state=42)
    if name == "SVDpp":
        return surprise.SVDpp(random_state=42)
    if name == "KNNBaseline":
        return surprise.KNNBaseline(sim_options={"name": "pearson_baseline", "user_based": True}, verbose=False)
    if name == "KNNBasic":
        return surprise.KNNBasic(verbose=False)
    if name == "KNNWithMeans":
        return surprise.KNNWithMeans(verbose=False)
    if name == "BaselineOnly":
        return surprise.BaselineOnly(verbose=False)
    if name == "NMF":
        return surprise.NMF(random_state=42)
    if name == "SlopeOne":
        return surprise.SlopeOne()
    raise ValueError(f"unknown Surprise model {name}")


def run_rating(args, model):
    import surprise

    tu, ti, tr = read_split(args.train)
    qu, qi, qr = read_split(args.test)
    lo, hi = float(min(tr.min(), qr.min())), float(max(tr.max(), qr.max()))
    # A Trainset straight from the triples (what Dataset.load_from_df builds, without pandas); raw ids are the
    # dense indices as strings.
    ds = surprise.Dataset(reader=surprise.Reader(rating_scale=(lo, hi)))
    trainset = ds.construct_trainset([(str(u), str(i), float(r), None) for u, i, r in zip(tu, ti, tr)])
    # Warm-up on a tiny trainset (lazy imports, first-call costs), as for the ranking peers.
    tiny = ds.construct_trainset([(str(u), str(i), float(lo + (u * 7 + i) % int(hi - lo + 1)), None) for u in range(30) for i in range(20) if (u + i) % 3 == 0])
    warm = surprise_algo(model)
    warm.fit(tiny)
    warm.test([("0", "0", lo), ("1", "2", hi)])
    algo = surprise_algo(model)
    t0 = time.perf_counter()
    algo.fit(trainset)
    t1 = time.perf_counter()
    preds = algo.test([(str(u), str(i), float(r)) for u, i, r in zip(qu, qi, qr)])
    t2 = time.perf_counter()
    with open(args.out, "w") as f:
        f.write("\n".join(repr(float(p.est)) for p in preds) + "\n")
    return t1 - t0, t2 - t1


# ---- ranking ----------------------------------------------------------------------------------------------------

def user_items(args):
    import scipy.sparse as sp

    tu, ti, tv = read_split(args.train)
    qu, _, _ = read_split(args.test)
    n_users = int(max(tu.max(), qu.max())) + 1
    n_items = args.items
    m = sp.csr_matrix((np.ones_like(tv, dtype=np.float32), (tu, ti)), shape=(n_users, n_items))
    m.sum_duplicates()
    m.data[:] = 1
    return m, np.unique(qu)


def top_n_from_scores(scores, seen_rows, n):
    """Top-n per row of a dense score block, seen items excluded (ties: smaller index first, as recsys)."""
    scores = scores.astype(np.float64, copy=True)
    for r, seen in enumerate(seen_rows):
        scores[r, seen] = -np.inf
    idx = np.argsort(-scores, axis=1, kind="stable")[:, :n]
    vals = np.take_along_axis(scores, idx, axis=1)
    return [row[np.isfinite(v)] for row, v in zip(idx, vals)]


def write_top(path, users, lists):
    with open(path, "w") as f:
        for u, items in zip(users, lists):
            f.write(f"{u}\t{','.join(str(int(i)) for i in items)}\n")


def fit_and_rank(args, lib, name, R, test_users):
    """Fits on R (users x items, binary CSR) and returns (fit seconds, top-N seconds, top-N lists of test_users)."""
    n = args.n
    threads = args.threads
    if lib == "implicit":
        import implicit

        if name == "ALS":
            m = implicit.cpu.als.AlternatingLeastSquares(factors=args.factors, regularization=args.reg, alpha=args.alpha, iterations=args.epochs, random_state=42, num_threads=threads)
        elif name == "BPR":
            # implicit's BPR learns factors - 1 latent factors plus an item bias column
            m = implicit.cpu.bpr.BayesianPersonalizedRanking(factors=args.factors + 1, learning_rate=args.lr, regularization=args.reg, iterations=args.epochs, random_state=42, num_threads=threads)
        elif name in ("CosineRecommender", "TFIDFRecommender", "BM25Recommender"):
            m = getattr(implicit.nearest_neighbours, name)(K=args.k, num_threads=threads)
        else:
            raise ValueError(f"unknown implicit model {name}")
        t0 = time.perf_counter()
        m.fit(R, show_progress=False)
        t1 = time.perf_counter()
        ids, _ = m.recommend(test_users, R[test_users], N=n, filter_already_liked_items=True)
        t2 = time.perf_counter()
        lists = [row[row >= 0] for row in np.asarray(ids)]
    elif lib == "lightfm":
        from lightfm import LightFM

        m = LightFM(no_components=args.factors, loss=name.lower(), learning_rate=args.lr, random_state=42)
        coo = R.tocoo()
        t0 = time.perf_counter()
        m.fit(coo, epochs=args.epochs, num_threads=threads)
        t1 = time.perf_counter()
        n_items = R.shape[1]
        lists = []
        for b in range(0, len(test_users), 256):
            block = test_users[b : b + 256]
            uu = np.repeat(block, n_items).astype(np.int32)
            ii = np.tile(np.arange(n_items, dtype=np.int32), len(block))
            s = m.predict(uu, ii, num_threads=threads).reshape(len(block), n_items)
            lists += top_n_from_scores(s, [R.indices[R.indptr[u] : R.indptr[u + 1]] for u in block], n)
        t2 = time.perf_counter()
    elif lib in ("sklearn", "scipy"):
        # PureSVD: scores of user u are r_u V V^T = (U S)_u V^T.
        Rf = R.astype(np.float64)
        t0 = time.perf_counter()
        if lib == "sklearn":
            from sklearn.decomposition import TruncatedSVD

            svd = TruncatedSVD(n_components=args.factors, algorithm="randomized", n_iter=args.epochs, random_state=42)
            US = svd.fit_transform(Rf)
            Vt = svd.components_
        else:
            from scipy.sparse.linalg import svds

            U, S, Vt = svds(Rf, k=args.factors, random_state=42)
            US = U * S
        t1 = time.perf_counter()
        lists = []
        for b in range(0, len(test_users), 1024):
            block = test_users[b : b + 1024]
            s = US[block] @ Vt
            lists += top_n_from_scores(s, [R.indices[R.indptr[u] : R.indptr[u + 1]] for u in block], n)
        t2 = time.perf_counter()
    else:
        raise ValueError(f"unknown library {lib}")
    return t1 - t0, t2 - t1, lists


def tiny_csr(rng, users=60, items=40):
    import scipy.sparse as sp

    m = sp.random(users, items, density=0.2, format="csr", random_state=rng, dtype=np.float32)
    m.data[:] = 1
    return m


def run_ranking(args, model):
    lib, name = model.split(".", 1)
    R, test_users = user_items(args)
    # Warm-up on a tiny matrix: lazy imports, thread pools and first-call checks (implicit's BLAS check) are not
    # counted in the timed fit, as recsys's are not (its addon is loaded before the clock starts).
    W = tiny_csr(np.random.default_rng(0))
    fit_and_rank(args, lib, name, W, np.arange(W.shape[0]))
    fit, pred, lists = fit_and_rank(args, lib, name, R, test_users)
    write_top(args.out, test_users, lists)
    return fit, pred


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--versions", action="store_true")
    p.add_argument("--task", choices=["rating", "ranking"])
    p.add_argument("--model")
    p.add_argument("--train")
    p.add_argument("--test")
    p.add_argument("--out")
    p.add_argument("--items", type=int, default=0, help="catalogue size (ranking)")
    p.add_argument("--n", type=int, default=50, help="top-N exported per test user")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--factors", type=int, default=64)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--reg", type=float, default=0.01)
    p.add_argument("--alpha", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--k", type=int, default=20)
    args = p.parse_args()
    if args.versions:
        print(json.dumps(versions()))
        return
    try:
        model = args.model.split(".", 1)[1] if args.task == "rating" else args.model
        fit, pred = run_rating(args, model) if args.task == "rating" else run_ranking(args, model)
        print(json.dumps({"fit_seconds": fit, "predict_seconds": pred}))
    except Exception as e:  # reported, not raised: one failing peer must not stop the comparison
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        sys.exit(0)


if __name__ == "__main__":
    main()
