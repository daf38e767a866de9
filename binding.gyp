{
  "variables": {
    "recsys_blas%": "<!(node scripts/blas-config.mjs mode <(target_arch))",
    "recsys_arch%": "<!(node scripts/blas-config.mjs arch <(target_arch))",
    "recsys_dispatch%": "<!(node scripts/blas-config.mjs dispatch <(target_arch))"
  },
  "targets": [
    {
      "target_name": "recsys",
      "sources": ["<!@(node scripts/blas-config.mjs sources)"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native"
      ],
      # NAPI_EXPERIMENTAL (Node >= 20.10, engines asks 20.17): wrapped native models are freed by the garbage
      # collector itself (basic finalizers) instead of a callback queued for the next event-loop turn, so a loop
      # of synchronous loadModel calls does not hold every dropped model's memory (issue 12, item 13).
      "defines": [
        "NAPI_EXPERIMENTAL",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "RECSYS_ARCH_FLAG=\"<(recsys_arch)\"",
        "RECSYS_DISPATCH=<(recsys_dispatch)"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "<!@(node scripts/blas-config.mjs arch <(target_arch))", "-fexceptions", "-Wall", "-Wno-unused-parameter", "-pthread"],
      "ldflags": ["-pthread"],
      "conditions": [
        ["recsys_blas=='openblas'", {
          "defines": ["RECSYS_USE_OPENBLAS=1", "RECSYS_BLAS_VERSION=\"<!(node scripts/blas-config.mjs version <(target_arch))\""],
          "cflags_cc": ["<!@(node scripts/blas-config.mjs cflags <(target_arch))"],
          "libraries": ["<!@(node scripts/blas-config.mjs libs <(target_arch))"]
        }]
      ]
    }
  ]
}
