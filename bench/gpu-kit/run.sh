#!/usr/bin/env bash
# Runs `whetstone bench` from .gpu-kit (made by `npm run gpu-kit`) on a machine without network or Node:
# unpacks the kit to /tmp, puts the kit's Vulkan loader on the library path, points Vulkan at NVIDIA's
# driver where the machine has one (SwiftShader otherwise, for a dry run), and writes the report to $OUT
# (or ./gpu-kit-out). Arguments go to `whetstone bench`; the default is the GPU set: --gpu.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
kit=/tmp/whetstone-kit
out="${OUT:-$PWD/gpu-kit-out}"
rm -rf "$kit" && mkdir -p "$kit/root" "$out"
tar -xJf "$here/kit.tar.xz" -C "$kit"
for deb in "$kit"/debs/*.deb; do dpkg -x "$deb" "$kit/root"; done

libs="$kit/root/usr/lib/x86_64-linux-gnu"
nvidia=/usr/local/nvidia
if [ -d "$nvidia/lib64" ]; then libs="$libs:$nvidia/lib64"; fi
if [ -f "$nvidia/share/vulkan/icd.d/nvidia_icd.json" ]; then
  export VK_DRIVER_FILES="$nvidia/share/vulkan/icd.d/nvidia_icd.json"
elif [ -f /usr/lib/chromium/vk_swiftshader_icd.json ]; then
  export VK_DRIVER_FILES=/usr/lib/chromium/vk_swiftshader_icd.json
  libs="$libs:/usr/lib/chromium"
fi
export VK_ICD_FILENAMES="${VK_DRIVER_FILES:-}"
export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "gpu-kit: Vulkan driver ${VK_DRIVER_FILES:-(none found)}" >&2
command -v nvidia-smi >/dev/null && nvidia-smi -L >&2 || true

if [ "$#" -eq 0 ]; then set -- --gpu; fi
"$kit/node" "$kit/cli/main.js" bench --out "$out" "$@" 2>&1 | tee "$out/bench.log"
