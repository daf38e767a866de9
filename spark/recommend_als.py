#!/usr/bin/env python3
"""Top-k recommendations from a saved Spark ALSModel for given users, through Spark itself.

Loads each --model with ALSModel.load (a model written by train_als.py, by recsys's exportSparkALS, or any
ALSModel.save), maps the external user ids through userIds/ when present, calls recommendForUserSubset, maps the
items back through itemIds/ and writes JSON {"user": [[item, score], ...], ...} to the matching --out file.
Used by recsys's Spark test to compare Spark's answers with recsys serving the same model, and usable as a batch
scorer.

  spark-submit spark/recommend_als.py --users-file users.json --k 10 --model m1 --out r1.json [--model m2 --out r2.json]
"""
import argparse
import json
import os
import sys


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", required=True)
    p.add_argument("--out", action="append", required=True)
    p.add_argument("--users-file", required=True, help="JSON list of external user ids")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--master", default=None)
    args = p.parse_args(argv)
    if len(args.model) != len(args.out):
        raise SystemExit("recommend_als: give one --out per --model")
    from pyspark.sql import SparkSession, functions as F
    from pyspark.ml.recommendation import ALSModel

    builder = SparkSession.builder.appName("recsys-recommend-als")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    with open(args.users_file) as f:
        wanted = json.load(f)

    for model_dir, out in zip(args.model, args.out):
        model = ALSModel.load(model_dir)
        has_maps = os.path.isdir(os.path.join(model_dir, "userIds")) or model_dir.startswith(("hdfs:", "s3:", "s3a:"))
        if has_maps:
            umap = spark.read.parquet(model_dir.rstrip("/") + "/userIds")
            imap = spark.read.parquet(model_dir.rstrip("/") + "/itemIds")
            # External ids as text on both sides of the join, so numeric and string ids both match.
            want = spark.createDataFrame([(str(u),) for u in wanted], ["ext"])
            users = umap.join(want, umap.id.cast("string") == want.ext).select(F.col("index").alias("user"), F.col("id").alias("ext_user"))
        else:
            users = spark.createDataFrame([(int(u), int(u)) for u in wanted], ["user", "ext_user"])
        recs = model.recommendForUserSubset(users.select("user"), args.k)
        rows = recs.join(users, "user").select("ext_user", F.posexplode("recommendations").alias("pos", "rec"))
        rows = rows.select("ext_user", "pos", F.col("rec.item").alias("item"), F.col("rec.rating").alias("score"))
        if has_maps:
            rows = rows.join(imap, rows.item == imap["index"]).select("ext_user", "pos", F.col("id").alias("ext_item"), "score")
        else:
            rows = rows.select("ext_user", "pos", F.col("item").alias("ext_item"), "score")
        result = {}
        for r in sorted(rows.collect(), key=lambda r: (str(r.ext_user), r.pos)):
            result.setdefault(str(r.ext_user), []).append([r.ext_item, float(r.score)])
        with open(out, "w") as f:
            json.dump(result, f)
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
