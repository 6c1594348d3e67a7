"""deploy.yaml, both ways: export.py writes it as PaddleSeg's export does, infer.py
(and export.py's own check) reads it back, ours or PaddleSeg's, with a parser for the
block-style YAML subset these files use (no YAML package needed)."""

import json
import math
import os
import re

from .errors import fail

# Deploy transforms infer.py applies; anything else in a deploy.yaml is refused.
INFER_SUPPORTED_TRANSFORMS = ("Normalize", "Padding", "Resize", "ResizeByShort", "ScalePadding")
# What the exported model appends to the logits (export.py --output-op); infer.py reads
# class ids, probabilities or logits accordingly.
DEPLOY_OUTPUT_OPS = ("argmax", "softmax", "none")


def deploy_yaml_scalar(text):
    """The value of one plain, quoted or flow-style ([..], {..}) YAML scalar."""
    text = text.strip()
    if not text:
        return None
    if text[0] in "[{":
        return deploy_yaml_flow(text, 0)[0]
    if text[0] == "'" and text.endswith("'") and len(text) > 1:
        return text[1:-1].replace("''", "'")
    if text[0] == '"' and text.endswith('"') and len(text) > 1:
        return json.loads(text)
    lowered = text.lower()
    if lowered in ("null", "~"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    if re.fullmatch(r"[-+]?[0-9]+", text):
        return int(text)
    if re.fullmatch(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?", text):
        return float(text)
    if lowered in (".inf", "+.inf", "-.inf", ".nan"):
        return float(lowered.replace(".", ""))
    return text


def deploy_yaml_flow(text, position):
    """Parse a flow collection or scalar starting at text[position]; (value, end)."""
    while position < len(text) and text[position] == " ":
        position += 1
    opener = text[position] if position < len(text) else ""
    if opener not in "[{" or not opener:
        end = position
        if opener in ("'", '"'):  # a quoted scalar runs to its closing quote
            end = deploy_yaml_quote_end(text, position)
        while end < len(text) and text[end] not in ",]}":
            end += 1
        return deploy_yaml_scalar(text[position:end]), end
    closer = "]" if opener == "[" else "}"
    items = [] if opener == "[" else {}
    position += 1
    while True:
        while position < len(text) and text[position] == " ":
            position += 1
        if position >= len(text):
            raise ValueError(f"unclosed '{opener}'")
        if text[position] == closer:
            return items, position + 1
        if opener == "[":
            value, position = deploy_yaml_flow(text, position)
            items.append(value)
        else:
            colon = text.index(":", position)
            key = deploy_yaml_scalar(text[position:colon])
            value, position = deploy_yaml_flow(text, colon + 1)
            items[key] = value
        while position < len(text) and text[position] == " ":
            position += 1
        if position < len(text) and text[position] == ",":
            position += 1


def deploy_yaml_quote_end(text, position):
    """Index just past the quoted scalar that opens at text[position]."""
    quote = text[position]
    index = position + 1
    while index < len(text):
        if quote == '"' and text[index] == "\\":
            index += 2
            continue
        if text[index] == quote:
            if quote == "'" and text[index + 1 : index + 2] == "'":
                index += 2  # '' is an escaped quote
                continue
            return index + 1
        index += 1
    raise ValueError("unclosed quote")


def deploy_yaml_flow_depth(text):
    """Brackets a flow collection leaves open: [ and { minus ] and }, quotes skipped."""
    depth = 0
    index = 0
    while index < len(text):
        char = text[index]
        if char in "'\"" and (index == 0 or text[index - 1] in "[{,: "):
            try:
                index = deploy_yaml_quote_end(text, index)
            except ValueError:
                return depth
            continue
        depth += (char in "[{") - (char in "]}")
        index += 1
    return depth


def deploy_yaml_strip_comment(line):
    """`line` without a trailing `# comment` (a # inside quotes is kept)."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return line[:index].rstrip()
    return line.rstrip()


def deploy_yaml_split_key(content):
    """(key, rest) of a `key: value` line, or None when it is not one."""
    match = re.match(
        r"""('(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|[^'"\s#\[\]{},][^:#]*?)\s*:(\s|$)""", content
    )
    if not match:
        return None
    return deploy_yaml_scalar(match.group(1)), content[match.end() :].strip()


def deploy_yaml_block(lines, index, indent):
    """Parse the block (mapping or sequence) at `indent` from lines[index]; (value, next)."""
    if lines[index][2].startswith("- ") or lines[index][2] == "-":
        items = []
        while (
            index < len(lines)
            and lines[index][0] == indent
            and (lines[index][2].startswith("- ") or lines[index][2] == "-")
        ):
            number, _, content = lines[index]
            rest = content[1:].lstrip()
            if not rest:
                if index + 1 < len(lines) and lines[index + 1][0] > indent:
                    value, index = deploy_yaml_block(lines, index + 1, lines[index + 1][0])
                else:
                    value, index = None, index + 1
            elif (
                rest.startswith("- ")
                or rest == "-"
                or (rest[0] not in "[{'\"" and deploy_yaml_split_key(rest))
            ):
                # "- key: value" ("- - item") opens a mapping (sequence) lined up after the dash
                lines[index] = (indent + len(content) - len(rest), number, rest)
                value, index = deploy_yaml_block(lines, index, lines[index][0])
            else:
                value, index = deploy_yaml_scalar(rest), index + 1
            items.append(value)
        return items, index
    mapping = {}
    while index < len(lines) and lines[index][0] == indent:
        _, number, content = lines[index]
        if content.startswith("- ") or content == "-":
            break
        split = deploy_yaml_split_key(content)
        if split is None:
            raise ValueError(f"line {number}: expected 'key: value', got {content!r}")
        key, rest = split
        index += 1
        if rest:
            mapping[key] = deploy_yaml_scalar(rest)
        elif index < len(lines) and (
            lines[index][0] > indent
            or (lines[index][0] == indent and lines[index][2].startswith("-"))
        ):
            mapping[key], index = deploy_yaml_block(lines, index, lines[index][0])
        else:
            mapping[key] = None
    return mapping, index


def deploy_yaml_parse(text):
    """Parse the block-style YAML subset deploy.yaml files use (ours and PaddleSeg's).

    Mappings, sequences (also unindented under their key, as pyyaml writes them),
    "- key: value" items, flow lists/maps, quoted and plain scalars, comments.
    Raises ValueError on anything else.
    """
    lines = []
    depth = 0  # open flow brackets: a flow collection may wrap over several lines
    for number, raw in enumerate(text.splitlines(), 1):
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise ValueError(f"line {number}: tab in indentation")
        content = deploy_yaml_strip_comment(raw)
        if not content.strip() or content.strip() in ("---", "..."):
            continue
        if depth > 0:
            lines[-1] = (lines[-1][0], lines[-1][1], f"{lines[-1][2]} {content.strip()}")
            depth += deploy_yaml_flow_depth(content.strip())
            continue
        lines.append((len(content) - len(content.lstrip()), number, content.strip()))
        value = content.strip()
        while value.startswith("- "):
            value = value[2:].lstrip()
        split = deploy_yaml_split_key(value) if value[:1] not in ("[", "{") else None
        value = split[1] if split else value
        if value[:1] in ("[", "{"):
            depth = deploy_yaml_flow_depth(value)
    if not lines:
        return None
    if lines[0][2][0] in "[{":
        if len(lines) > 1:
            raise ValueError(f"line {lines[1][1]}: text after a flow collection")
        return deploy_yaml_scalar(lines[0][2])
    value, index = deploy_yaml_block(lines, 0, lines[0][0])
    if index < len(lines):
        raise ValueError(f"line {lines[index][1]}: unexpected indentation")
    return value


def infer_model_files(folder, model_name):
    """The program file of an exported model in `folder` that deploy.yaml calls `model_name`.

    Paddle 3 with PIR saves the program as model.json, older Paddle as model.pdmodel;
    when the named one is missing the other is used (a PaddleSeg deploy.yaml says
    model.pdmodel even where Paddle 3 wrote model.json).
    """
    model_file = os.path.join(folder, model_name)
    if not os.path.isfile(model_file):
        stem = os.path.splitext(model_file)[0]
        for ending in (".json", ".pdmodel"):
            if os.path.isfile(stem + ending):
                return stem + ending
    return model_file


def fp16_model_files(model_file):
    """(program, weights) of the float16 model export.py --precision fp16 writes beside
    the float32 `model_file`: model_fp16.json and model_fp16.pdiparams."""
    stem, ending = os.path.splitext(model_file)
    return f"{stem}_fp16{ending}", f"{stem}_fp16.pdiparams"


def load_deploy_config(path):
    """Read a deploy.yaml (or the folder holding one) into a dict.

    Keys: path, model_file and params_file (absolute), transforms, input_shape
    ([N, C, H, W], -1 for dynamic), output_op, output_dtype, mean and std (Normalize's,
    per RGB channel), resize ((width, height) of a Resize transform, or None),
    resize_short (a ResizeByShort transform's short_size, or None) and
    padding (a Padding transform's {"size": (width, height), "value": image padding
    value}, or None) and scale_padding (a ScalePadding transform's {"size": (width,
    height), "value": (B, G, R) padding value}, or None).
    User errors end the program with one line (exit 2).
    """
    if os.path.isdir(path):
        path = os.path.join(path, "deploy.yaml")
    if not os.path.isfile(path):
        fail(
            f"{path}: deploy config not found (pass the deploy.yaml export.py wrote or its folder)"
        )
    try:
        with open(path, encoding="utf-8") as f:
            data = deploy_yaml_parse(f.read())
    except (ValueError, UnicodeDecodeError) as error:
        fail(f"{path}: cannot parse deploy config: {error}")
    deploy = data.get("Deploy") if isinstance(data, dict) else None
    if not isinstance(deploy, dict) or "model" not in deploy or "params" not in deploy:
        fail(f"{path}: not a deploy config (no Deploy: model / params)")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        config = deploy_config_fields(deploy, folder)
    except (TypeError, ValueError, IndexError, AttributeError) as error:
        fail(f"{path}: invalid deploy config ({type(error).__name__}: {error})")
    config["path"] = path
    for name in ("model_file", "params_file"):
        if not os.path.isfile(config[name]):
            fail(f"{config[name]}: model file named by {path} not found")
    if config["output_op"] not in DEPLOY_OUTPUT_OPS:
        fail(
            f"{path}: output_op {config['output_op']!r} is not one of "
            f"{', '.join(DEPLOY_OUTPUT_OPS)}; re-export with export.py --output-op"
        )
    for transform in config["transforms"]:
        kind = transform.get("type") if isinstance(transform, dict) else None
        if kind not in INFER_SUPPORTED_TRANSFORMS:
            fail(
                f"{path}: transform {kind!r} is not supported by infer.py "
                f"(only {', '.join(INFER_SUPPORTED_TRANSFORMS)})"
            )
    return config


def deploy_config_fields(deploy, folder):
    """load_deploy_config's dict (but `path`) from the parsed Deploy section."""
    config = {
        "model_file": infer_model_files(folder, str(deploy["model"])),
        "params_file": os.path.join(folder, str(deploy["params"])),
        "transforms": list(deploy.get("transforms") or []),
        "input_shape": [
            -1 if v is None else int(v) for v in (deploy.get("input_shape") or [-1, 3, -1, -1])
        ],
        "output_op": str(deploy.get("output_op") or "argmax"),
        "output_dtype": deploy.get("output_dtype"),
        "mean": [0.5, 0.5, 0.5],
        "std": [0.5, 0.5, 0.5],
        "resize": None,
        "resize_short": None,
        "padding": None,
        "scale_padding": None,
    }
    for transform in config["transforms"]:
        if not isinstance(transform, dict):
            continue
        if transform.get("type") == "Normalize":
            config["mean"] = [float(v) for v in transform.get("mean", config["mean"])]
            config["std"] = [float(v) for v in transform.get("std", config["std"])]
            if len(config["mean"]) != 3 or len(config["std"]) != 3 or min(config["std"]) <= 0:
                raise ValueError("Normalize needs 3 means and 3 positive stds")
        elif transform.get("type") == "Resize":
            size = transform.get("target_size", [512, 512])
            size = [size, size] if isinstance(size, int) else size
            config["resize"] = (int(size[0]), int(size[1]))
            if config["padding"] is not None or config["resize_short"] is not None:
                raise ValueError(
                    "a Resize after a Padding or ResizeByShort is not supported; infer.py "
                    "resizes first, then pads"
                )
        elif transform.get("type") == "ResizeByShort":
            config["resize_short"] = int(transform["short_size"])  # PaddleSeg: no default
            if config["resize"] is not None or config["padding"] is not None:
                raise ValueError("a ResizeByShort after a Resize or Padding is not supported")
        elif transform.get("type") == "Padding":
            size = transform["target_size"]  # PaddleSeg's Padding has no default size
            size = [size, size] if isinstance(size, int) else size
            config["padding"] = {
                "size": (int(size[0]), int(size[1])),
                "value": float(transform.get("im_padding_value", 127.5)),
            }
        elif transform.get("type") == "ScalePadding":
            size = transform.get("target_size", [512, 512])
            size = [size, size] if isinstance(size, int) else size
            value = transform.get("im_padding_value", 127.5)
            value = [value] * 3 if isinstance(value, (int, float)) else value
            # PaddleSeg pads a float canvas it then casts to uint8: 127.5 becomes 127;
            # the value is given per RGB channel, the image is BGR here
            config["scale_padding"] = {
                "size": (int(size[0]), int(size[1])),
                "value": tuple(float(int(v)) for v in value[::-1]),
            }
    if config["scale_padding"] is not None and (
        config["resize"] or config["resize_short"] or config["padding"]
    ):
        raise ValueError("ScalePadding with a Resize, ResizeByShort or Padding is not supported")
    if len(config["input_shape"]) != 4:
        raise ValueError("input_shape needs 4 values, N C H W")
    height, width = config["input_shape"][2:]
    if config["padding"] is not None and height > 0 and width > 0:
        if config["padding"]["size"] != (width, height):
            raise ValueError(
                f"Padding target_size {list(config['padding']['size'])} differs "
                f"from the fixed input_shape's {width}x{height}"
            )
    elif config["resize"] is None and height > 0 and width > 0:
        config["resize"] = (width, height)  # a fixed-shape export takes only that size
        config["resize_short"] = None
    return config


def deploy_yaml_value(value):
    """One scalar in YAML, quoted where a plain scalar would read back differently."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return {"nan": ".nan", "inf": ".inf", "-inf": "-.inf"}[repr(value)]
        text = repr(value)  # YAML 1.1 (pyyaml) wants a dot in 1.0e-05
        return text if "." in text or "e" not in text else text.replace("e", ".0e", 1)
    text = str(value)
    plain = re.fullmatch(r"[A-Za-z_/][A-Za-z0-9_./ -]*", text) and not text.endswith(" ")
    if plain and text.lower() not in ("null", "true", "false", "yes", "no", "on", "off"):
        return text
    return "'" + text.replace("'", "''") + "'"


def deploy_yaml_lines(value, indent=0):
    """Block-style YAML lines of nested dicts and lists, laid out as pyyaml dumps them."""
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{deploy_yaml_value(key)}:")
                # pyyaml leaves a list at its key's indent, nests a mapping two deeper
                lines += deploy_yaml_lines(item, indent + 2 if isinstance(item, dict) else indent)
            else:
                text = (
                    ("{}" if isinstance(item, dict) else "[]")
                    if isinstance(item, (dict, list))
                    else deploy_yaml_value(item)
                )
                lines.append(f"{pad}{deploy_yaml_value(key)}: {text}")
        return lines
    for item in value:
        if isinstance(item, (dict, list)) and item:
            nested = deploy_yaml_lines(item, indent + 2)
            lines.append(f"{pad}- {nested[0][indent + 2 :]}")
            lines += nested[1:]
        else:
            text = (
                ("{}" if isinstance(item, dict) else "[]")
                if isinstance(item, (dict, list))
                else deploy_yaml_value(item)
            )
            lines.append(f"{pad}- {text}")
    return lines


def export_deploy_info(spec, model_file, input_shape, output_op, num_classes):
    """The Deploy section of deploy.yaml, as PaddleSeg's export writes it, plus the
    model's class count (PaddleSeg's reader ignores keys it does not use)."""
    transforms = [dict(t) for t in spec["val_transforms"]]  # the spec ends them with Normalize
    return {
        "Deploy": {
            "model": model_file,
            "params": "model.pdiparams",
            "transforms": transforms,
            "input_shape": list(input_shape),
            "output_op": output_op,
            "output_dtype": "int32" if output_op == "argmax" else "float32",
            "num_classes": num_classes,
        }
    }
