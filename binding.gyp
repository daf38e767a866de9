{
  "variables": {
    "recsys_blas%": "<!(node scripts/blas-config.mjs mode)",
    "recsys_arch%": "<!(node scripts/blas-config.mjs arch)"
  },
  "targets": [
    {
      "target_name": "recsys",
      "sources": ["<!@(node scripts/blas-config.mjs sources)"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "RECSYS_ARCH_FLAG=\"<(recsys_arch)\""
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "<(recsys_arch)", "-fexceptions", "-Wall", "-Wno-unused-parameter", "-pthread"],
      "ldflags": ["-pthread"],
      "conditions": [
        ["recsys_blas=='openblas'", {
          "defines": ["RECSYS_USE_OPENBLAS=1", "RECSYS_BLAS_VERSION=\"<!(node scripts/blas-config.mjs version)\""],
          "cflags_cc": ["<!@(node scripts/blas-config.mjs cflags)"],
          "libraries": ["<!@(node scripts/blas-config.mjs libs)"]
        }]
      ]
    }
  ]
}
