{
  # The eBPF loader addon: bpf/*.skel.h (built by bpf/Makefile first) embed the programs,
  # libbpf loads them. Linked against the system libbpf (libbpf-dev >= 1.1), libelf and zlib.
  "targets": [
    {
      "target_name": "tracer_bpf",
      "sources": ["src/addon.cc", "src/loader.cc", "src/records.cc", "src/syscalls.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "../../../bpf",
        "../../../bpf/.output"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wno-missing-field-initializers"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-lbpf", "-lelf", "-lz"]
    }
  ]
}
