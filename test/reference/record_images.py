#!/usr/bin/env python3
"""Test images and Pillow / transformers goldens for runtime/image (fathom_image).

    python3 test/reference/record_images.py make SKIMAGE_DATA MATPLOTLIB_SAMPLE_DATA
    python3 test/reference/record_images.py record

`make` rebuilds the committed images in images/ from public-domain / CC0 photographs (see
images/README.md for where they come from); it is run once, the images are committed. `record`
writes images/goldens.json + images/goldens.safetensors from the committed images with the
versions pinned in requirements.txt (Pillow 13.0.0 from PyPI, transformers 5.23.0):

  - decoded: `Image.open(f).convert("RGB")` (CRC-32 of the HxWx3 bytes; the pixels too when small);
  - resize: `rgb.resize((w, h), filter)` for sizes that shrink, grow, change one axis only or
    both by odd factors, with every filter on two images;
  - processed: `DeepseekVLImageProcessorPil(**config)(rgb)` for tiny-vl's processor_config.json
    (size 32, all pixel_values stored), deepseek-vl-1.3b-chat's settings (size 384) and two
    configs that take the other branches (CRC-32 of the float32 pixel_values, of the uint8
    resized-and-padded canvas, and every 997th value).

The C++ side computes the same CRC-32 (zlib's) over its own output; float32 values are compared
bit for bit through it.
"""
import json
import os
import struct
import sys
import warnings
import zlib

import numpy as np
from PIL import Image, JpegImagePlugin, features

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE_DIR = os.path.join(HERE, "images")
TINY_VL = os.path.join(HERE, "checkpoints", "tiny-vl", "processor_config.json")
VL13B_DIR = os.path.join(IMAGE_DIR, "deepseek-vl-1.3b-chat")
SAMPLE_STRIDE = 997
SMALL = 64 * 64  # images and resizes up to this many pixels are stored whole


# ---- making the committed images ----------------------------------------------------------------

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _scanlines(a, bits):
    out = b""
    for row in a:
        flat = row.reshape(-1)
        if bits == 16:
            data = flat.astype(">u2").tobytes()
        elif bits == 8:
            data = flat.astype(np.uint8).tobytes()
        else:
            data = np.packbits(np.unpackbits(flat.astype(np.uint8)[:, None], axis=1)[:, 8 - bits:]).tobytes()
        out += b"\0" + data
    return out


def write_png(path, a, color_type, bits=8, interlace=False):
    """A PNG Pillow cannot write: 16-bit RGB / gray, 4-bit gray, Adam7 interlaced."""
    a = np.asarray(a)
    a = a[:, :, None] if a.ndim == 2 else a
    h, w = a.shape[:2]
    if interlace:
        raw = b"".join(_scanlines(a[y0::dy, x0::dx], bits) for x0, y0, dx, dy in ADAM7
                       if a[y0::dy, x0::dx].size)
    else:
        raw = _scanlines(a, bits)
    header = struct.pack(">IIBBBBB", w, h, bits, color_type, 0, 0, int(interlace))
    png = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9))
    with open(path, "wb") as f:
        f.write(png + _chunk(b"IEND", b""))


def make(skimage, matplotlib):
    def src(name):
        return Image.open(os.path.join(skimage, name))

    def out(name):
        return os.path.join(IMAGE_DIR, name)

    def copy(source, name):
        with open(source, "rb") as f, open(out(name), "wb") as g:
            g.write(f.read())

    os.makedirs(IMAGE_DIR, exist_ok=True)
    # Camera JPEGs as their photographers' tools wrote them.
    copy(os.path.join(matplotlib, "grace_hopper.jpg"), "grace_hopper.jpg")  # 512x600 4:2:0
    copy(os.path.join(skimage, "rocket.jpg"), "rocket.jpg")  # 640x427 4:4:4
    chelsea = src("chelsea.png").convert("RGB")
    coffee = src("coffee.png").convert("RGB")
    astronaut = src("astronaut.png").convert("RGB")
    camera = src("camera.png").convert("L")
    jpeg = dict(quality=85, optimize=False)
    chelsea.crop((70, 41, 371, 240)).save(out("chelsea-301x199-420.jpg"), subsampling=2, **jpeg)
    coffee.save(out("coffee-600x400-progressive.jpg"), subsampling=2, progressive=True, quality=75)
    astronaut.crop((101, 20, 356, 277)).save(out("astronaut-255x257-422.jpg"), subsampling=1, **jpeg)
    camera.crop((120, 30, 377, 220)).save(out("camera-257x190-gray.jpg"), **jpeg)
    coffee.crop((220, 90, 380, 197)).convert("CMYK").save(out("coffee-160x107-cmyk.jpg"), **jpeg)
    astronaut.crop((200, 40, 274, 440)).resize((37, 301), Image.BICUBIC).save(
        out("astronaut-37x301-tall-420.jpg"), subsampling=2, **jpeg)
    hubble = Image.open(os.path.join(skimage, "hubble_deep_field.jpg")).convert("RGB")
    hubble.crop((100, 400, 740, 480)).save(out("hubble-640x80-wide-444.jpg"), subsampling=0, **jpeg)
    # PNGs of every colour type Pillow turns into RGB differently.
    rgba = np.array(astronaut.crop((150, 60, 350, 220)).convert("RGBA"))
    yy, xx = np.mgrid[0:160, 0:200]
    rgba[..., 3] = np.clip((xx * 255) // 199 + (yy % 7) - 3, 0, 255)  # transparent left edge
    Image.fromarray(rgba, "RGBA").save(out("astronaut-200x160-rgba.png"))
    copy(os.path.join(skimage, "coins.png"), "coins-384x303-gray.png")
    palette = chelsea.crop((100, 60, 325, 210)).quantize(64, dither=Image.Dither.NONE)
    palette.save(out("chelsea-225x150-palette-trns.png"), transparency=5)
    cam = np.array(camera.crop((200, 100, 328, 196))).astype(np.uint16)
    write_png(out("camera-128x96-gray16.png"), cam * 4 + 3, 0, 16)  # Pillow clips at 255
    rgb16 = np.array(astronaut.crop((300, 300, 420, 390))).astype(np.uint16) * 257
    write_png(out("astronaut-120x90-rgb16.png"), rgb16 ^ (np.arange(120)[None, :, None] * 37 % 256), 2, 16)
    la = np.stack([np.array(camera.crop((10, 10, 110, 90))), np.full((80, 100), 90, np.uint8)], -1)
    Image.fromarray(la, "LA").save(out("camera-100x80-gray-alpha.png"))
    write_png(out("chelsea-151x101-interlaced.png"), np.array(chelsea.crop((150, 50, 301, 151))), 2, 8, True)
    write_png(out("camera-63x47-gray4.png"), np.array(camera.crop((300, 300, 363, 347))) >> 4, 0, 4)
    chelsea.resize((10, 6), Image.LANCZOS).save(out("chelsea-10x6.png"))
    coffee.crop((100, 200, 500, 212)).save(out("coffee-400x12-strip.png"))


# ---- recording the goldens ---------------------------------------------------------------------

def crc(array):
    return zlib.crc32(np.ascontiguousarray(array).tobytes())


def resize_cases(w, h):
    fit = max(w, h)
    cases = {(max(1, round(w * 384 / fit)), max(1, round(h * 384 / fit))), (max(1, w // 3), max(1, h // 3)),
             (2 * w, 2 * h), (17, 9), (w, h // 2 + 1), (w // 2 + 1, h), (w + 7, max(1, h - 5))}
    return sorted(c for c in cases if c != (w, h) and 2 * c[0] * c[1] <= 2000 * 2000)


def processor_configs():
    from transformers import DeepseekVLImageProcessorPil

    with open(TINY_VL) as f:
        tiny = json.load(f)["image_processor"]
    # deepseek-vl-1.3b-chat: 384 px, min_size 14, mean = std = 0.5, grey 127, 1/255, bicubic;
    # written the way transformers serializes the processor.
    vl13b = DeepseekVLImageProcessorPil(size={"height": 384, "width": 384}, min_size=14,
                                        image_mean=[0.5] * 3, image_std=[0.5] * 3,
                                        rescale_factor=1 / 255, resample=3)
    os.makedirs(VL13B_DIR, exist_ok=True)
    vl13b.to_json_file(os.path.join(VL13B_DIR, "preprocessor_config.json"))
    with open(os.path.join(VL13B_DIR, "preprocessor_config.json")) as f:
        vl13b_dict = json.load(f)
    # Two more that exercise the other branches: class defaults (OPENAI_CLIP mean/std, hence a
    # (122, 116, 104) padding grey) with BILINEAR; no padding, no rescale, LANCZOS.
    clip = {"size": {"height": 48, "width": 48}, "min_size": 20, "resample": 2}
    plain = {"size": 40, "min_size": 14, "resample": 1, "do_pad": False, "do_rescale": False,
             "image_mean": [100.0, 110.0, 120.0], "image_std": [50.0, 60.0, 70.0]}
    return {"tiny-vl": (tiny, "checkpoints/tiny-vl"),
            "deepseek-vl-1.3b-chat": (vl13b_dict, "images/deepseek-vl-1.3b-chat"),
            "clip-defaults-bilinear": (clip, clip), "no-pad-no-rescale-lanczos": (plain, plain)}


def canvas_of(processor, config, rgb):
    """The uint8 image after resize and pad_to_square, HxWx3, from the processor's own methods."""
    from transformers.image_utils import SizeDict

    chw = np.moveaxis(rgb, -1, 0)
    side = config["size"]["height"] if isinstance(config["size"], dict) else config["size"]
    chw = processor.resize(chw, size=SizeDict(height=side, width=side), min_size=config["min_size"],
                           resample=config["resample"])
    resized = chw.shape[1:]
    if config.get("do_pad", True):
        chw = processor.pad_to_square(chw, background_color=processor.background_color)
    return np.moveaxis(chw, 0, -1), resized


def record():
    import safetensors
    import torch
    import transformers
    from safetensors.numpy import save_file
    from transformers import DeepseekVLImageProcessorPil

    configs = processor_configs()
    tensors, entries = {}, []
    names = sorted(n for n in os.listdir(IMAGE_DIR) if n.endswith((".jpg", ".png")))
    all_filters = {"grace_hopper.jpg", "coffee-400x12-strip.png"}
    for name in names:
        image = Image.open(os.path.join(IMAGE_DIR, name))
        rgb_image = image.convert("RGB")
        rgb = np.array(rgb_image)
        key = os.path.splitext(name)[0]
        entry = {"file": name, "format": image.format, "pil_mode": image.mode, "width": image.width,
                 "height": image.height}
        if image.format == "JPEG":
            entry["subsampling"] = {-1: None, 0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}[JpegImagePlugin.get_sampling(image)]
            entry["progressive"] = bool(image.info.get("progressive"))
        if image.format == "PNG":
            entry["interlaced"] = bool(image.info.get("interlace"))
        entry["decoded"] = {"crc32": crc(rgb)}
        if image.width * image.height <= SMALL:
            entry["decoded"]["tensor"] = tensors_key = f"{key}/decoded"
            tensors[tensors_key] = rgb
        entry["resize"] = []
        for w, h in resize_cases(image.width, image.height):
            for filt in ([0, 1, 2, 3, 4, 5] if name in all_filters else [3]):
                out = np.array(rgb_image.resize((w, h), resample=filt))
                case = {"width": w, "height": h, "filter": filt, "crc32": crc(out)}
                if w * h <= SMALL:
                    case["tensor"] = f"{key}/resize/{w}x{h}/{filt}"
                    tensors[case["tensor"]] = out
                entry["resize"].append(case)
        entry["processed"] = {}
        for config_name, (config, _) in configs.items():
            processor = DeepseekVLImageProcessorPil(**config)
            values = processor(images=rgb_image, return_tensors="np")["pixel_values"][0]
            converted = DeepseekVLImageProcessorPil(**config, do_convert_rgb=True)(
                images=rgb_image, return_tensors="np")["pixel_values"][0]
            canvas, resized = canvas_of(processor, config, rgb)
            result = {"shape": list(values.shape), "resized": [int(resized[1]), int(resized[0])],
                      # do_convert_rgb=True whitens the pixels of a tRNS colour key, which
                      # convert("RGB") keeps in info["transparency"] (see images/README.md).
                      "same_with_do_convert_rgb": bool(np.array_equal(values, converted)),
                      "crc32": crc(values.astype(np.float32)), "canvas_crc32": crc(canvas),
                      "samples": f"{key}/{config_name}/samples"}
            tensors[result["samples"]] = values.reshape(-1)[::SAMPLE_STRIDE].copy()
            if config_name == "tiny-vl":
                result["tensor"] = f"{key}/{config_name}/pixel_values"
                tensors[result["tensor"]] = values
            entry["processed"][config_name] = result
        entries.append(entry)
        print(f"record_images.py: {name}", file=sys.stderr)

    manifest = {
        "schema": "fathom-image-goldens/1",
        "tensors_file": "goldens.safetensors",
        "versions": {"python": sys.version.split()[0], "pillow": Image.__version__,
                     "libjpeg_turbo": features.version("libjpeg_turbo"), "zlib": features.version("zlib"),
                     "transformers": transformers.__version__, "numpy": np.__version__,
                     "torch": torch.__version__, "safetensors": safetensors.__version__},
        "decode": "Image.open(file).convert('RGB'), HxWx3 uint8",
        "sample_stride": SAMPLE_STRIDE,
        # A folder to load the config from, or the config itself.
        "configs": {n: d for n, (_, d) in configs.items()},
        "images": entries,
    }
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()},
              os.path.join(IMAGE_DIR, "goldens.safetensors"))
    with open(os.path.join(IMAGE_DIR, "goldens.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    warnings.filterwarnings("ignore")
    if len(sys.argv) == 4 and sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 2 and sys.argv[1] == "record":
        record()
    else:
        sys.exit(__doc__)
