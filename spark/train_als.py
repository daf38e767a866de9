#!/usr/bin/env python3
"""Train Spark MLlib ALS on interactions and save a model that recsys serves (loadSparkALS).

Reads Parquet or CSV (local, hdfs:// or s3:// / s3a:// paths: whatever the cluster's Hadoop can open), maps the
external user and item ids to the int ids Spark's ALS needs (ids sorted, numbered from 0), trains ALS (explicit or
implicit), evaluates on a holdout (RMSE for explicit; precision@k and NDCG@k through RankingMetrics for implicit)
and writes, under --output:

  metadata/ userFactors/ itemFactors/   the ALSModel itself (ALSModel.load reads this directory)
  userIds/ itemIds/                     Parquet (id, index): the external id of each Spark int id
  params/                               one JSON line: the ALS parameters (recsys's fold-in needs alpha and
                                        regParam, which the ALSModel does not keep) and the holdout metrics

Example (local):
  spark-submit spark/train_als.py --input data/ --format parquet --implicit --rank 64 --max-iter 10 \\
      --reg-param 0.01 --alpha 40 --holdout 0.1 --output model/
On a cluster, see the README ("Big data").
"""
import argparse
import json
import sys
import time


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", required=True, nargs="+", help="interaction files or directories (Parquet or CSV)")
    p.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    p.add_argument("--csv-header", choices=["true", "false"], default="true", help="CSV: first line is a header")
    p.add_argument("--csv-delimiter", default=",", help="CSV field separator")
    p.add_argument("--test", nargs="+", help="a separate holdout set (same layout); otherwise --holdout splits")
    p.add_argument("--holdout", type=float, default=0.1, help="random share of interactions held out (0 = none)")
    p.add_argument("--user-col", default="user")
    p.add_argument("--item-col", default="item")
    p.add_argument("--rating-col", default=None, help="ratings / counts; absent = every interaction is 1")
    p.add_argument("--implicit", action="store_true", help="implicit-feedback ALS (Hu et al.)")
    p.add_argument("--rank", type=int, default=10)
    p.add_argument("--max-iter", type=int, default=10)
    p.add_argument("--reg-param", type=float, default=0.1)
    p.add_argument("--alpha", type=float, default=1.0)
    p.add_argument("--num-blocks", type=int, default=10, help="user and item blocks (parallelism of each sweep)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--k", type=int, default=10, help="cut-off of the ranking metrics")
    p.add_argument("--checkpoint-dir", default=None, help="checkpoint directory (long runs: cuts RDD lineage)")
    p.add_argument("--master", default=None, help="e.g. local[2]; default: whatever spark-submit says")
    p.add_argument("--output", required=True, help="model directory (must not exist unless --overwrite)")
    p.add_argument("--overwrite", action="store_true")
    return p.parse_args(argv)


def read(spark, paths, args):
    reader = spark.read
    if args.format == "csv":
        reader = reader.option("header", args.csv_header).option("sep", args.csv_delimiter).option("inferSchema", "true")
        df = reader.csv(paths)
    else:
        df = reader.parquet(*paths)
    missing = [c for c in [args.user_col, args.item_col, args.rating_col] if c and c not in df.columns]
    if missing:
        raise SystemExit(f"train_als: {paths}: no column(s) {missing}; columns are {df.columns}")
    return df


def main(argv):
    args = parse_args(argv)
    from pyspark.sql import SparkSession, functions as F, types as T
    from pyspark.ml.recommendation import ALS

    builder = SparkSession.builder.appName("recsys-train-als")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    if args.checkpoint_dir:
        spark.sparkContext.setCheckpointDir(args.checkpoint_dir)
    t0 = time.time()

    def interactions(paths):
        df = read(spark, paths, args)
        rating = F.col(args.rating_col).cast("float") if args.rating_col else F.lit(1.0).cast("float")
        out = df.select(F.col(args.user_col).alias("uid"), F.col(args.item_col).alias("iid"), rating.alias("rating"))
        return out.where(F.col("uid").isNotNull() & F.col("iid").isNotNull() & ~F.isnan("rating"))

    data = interactions(args.input)
    test_raw = interactions(args.test) if args.test else None

    # Int ids for Spark: the distinct external ids in ascending order, numbered from 0 (zipWithIndex keeps this
    # distributed; a window without PARTITION BY would move every id to one task).
    def id_map(col, frames):
        ids = frames[0].select(col)
        for f in frames[1:]:
            ids = ids.union(f.select(col))
        ids = ids.distinct().orderBy(col)
        schema = T.StructType([T.StructField("id", ids.schema[col].dataType, False), T.StructField("index", T.IntegerType(), False)])
        m = spark.createDataFrame(ids.rdd.zipWithIndex().map(lambda r: (r[0][0], int(r[1]))), schema)
        return m.cache()

    frames = [data] + ([test_raw] if test_raw is not None else [])
    users = id_map("uid", frames)
    items = id_map("iid", frames)
    n_users, n_items = users.count(), items.count()
    if max(n_users, n_items) >= 2**31 - 1:
        raise SystemExit("train_als: more than 2^31-2 users or items")

    def to_int(df):
        return (df.join(F.broadcast(users) if n_users < 2_000_000 else users, df.uid == users.id).select(F.col("index").alias("user"), "iid", "rating")
                .join(F.broadcast(items) if n_items < 2_000_000 else items, F.col("iid") == items.id).select("user", F.col("index").alias("item"), "rating"))

    full = to_int(data)
    if test_raw is not None:
        train, test = full, to_int(test_raw)
    elif args.holdout > 0:
        train, test = full.randomSplit([1 - args.holdout, args.holdout], seed=args.seed)
    else:
        train, test = full, None
    train = train.cache()
    n_train = train.count()

    als = ALS(rank=args.rank, maxIter=args.max_iter, regParam=args.reg_param, alpha=args.alpha,
              implicitPrefs=args.implicit, numUserBlocks=args.num_blocks, numItemBlocks=args.num_blocks,
              seed=args.seed, userCol="user", itemCol="item", ratingCol="rating", coldStartStrategy="drop",
              checkpointInterval=10 if args.checkpoint_dir else -1)
    t_fit = time.time()
    model = als.fit(train)
    fit_seconds = time.time() - t_fit

    metrics = {}
    if test is not None:
        if args.implicit:
            from pyspark.mllib.evaluation import RankingMetrics
            truth = test.where(F.col("rating") > 0).groupBy("user").agg(F.collect_set("item").alias("truth"))
            # Items seen in training are not filtered out here, as Spark's recommendForUserSubset does not.
            recs = model.recommendForUserSubset(truth.select("user"), args.k).select("user", F.col("recommendations.item").alias("pred"))
            pairs = recs.join(truth, "user").select("pred", "truth").rdd.map(lambda r: (list(r[0]), list(r[1])))
            if not pairs.isEmpty():
                rm = RankingMetrics(pairs)
                metrics = {f"precision@{args.k}": rm.precisionAt(args.k), f"ndcg@{args.k}": rm.ndcgAt(args.k),
                           "meanAveragePrecision": rm.meanAveragePrecision, "testUsers": pairs.count()}
        else:
            from pyspark.ml.evaluation import RegressionEvaluator
            pred = model.transform(test)
            metrics = {"rmse": RegressionEvaluator(metricName="rmse", labelCol="rating", predictionCol="prediction").evaluate(pred),
                       "testRatings": pred.count()}

    writer = model.write()
    if args.overwrite:
        writer = writer.overwrite()
    writer.save(args.output)
    users.write.mode("overwrite").parquet(args.output.rstrip("/") + "/userIds")
    items.write.mode("overwrite").parquet(args.output.rstrip("/") + "/itemIds")
    params = {"implicitPrefs": args.implicit, "alpha": args.alpha, "regParam": args.reg_param, "scaleReg": True,
              "rank": args.rank, "maxIter": args.max_iter, "numBlocks": args.num_blocks, "seed": args.seed,
              "users": n_users, "items": n_items, "trainInteractions": n_train, "fitSeconds": round(fit_seconds, 3),
              "sparkVersion": spark.version, "metrics": metrics}
    spark.sparkContext.parallelize([json.dumps(params)], 1).saveAsTextFile(args.output.rstrip("/") + "/params")
    print(json.dumps({"output": args.output, **params, "seconds": round(time.time() - t0, 3)}))
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
