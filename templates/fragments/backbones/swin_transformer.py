"""Swin Transformer backbone: Liu et al., "Swin Transformer: Hierarchical Vision
Transformer using Shifted Windows" (ICCV 2021), https://arxiv.org/abs/2103.14030.

Global self-attention costs the square of the number of tokens, too much for the
1/4-resolution maps segmentation needs. Swin attends within non-overlapping 7x7
windows only (cost linear in the image area) and lets information cross window
borders by shifting the window grid by half a window in every second block; the
tokens a cyclic shift wraps round to the far side are kept apart by an attention mask.
Each attention adds a learned bias per relative offset inside the window (a table of
(2w - 1)^2 entries per head, looked up through a fixed index). Between the four stages
a patch merging layer concatenates each 2x2 group of tokens and projects them to twice
the channels, so the stages give 1/4, 1/8, 1/16 and 1/32 maps like a CNN's.

Any input size works: the image is padded to whole 4x4 patches, each stage's map to
whole windows (the padding is cropped away after attention) and to even sides before
merging, as PaddleSeg does. Sizes are read with paddle.shape, so the exported program
keeps them dynamic. Tokens stay in N x H x W x C layout throughout (a linear layer or a
layer norm over the last axis is the same on it as on PaddleSeg's N x L x C tokens).

Parameter and buffer names (`patch_embed.proj`, `layers.<i>.blocks.<j>.attn.
relative_position_bias_table`, its `relative_position_index` buffer, `downsample.
reduction`, `norm<i>`...) follow PaddleSeg 2.8 so that its checkpoints load unchanged.
Its absolute position embedding (`ape`) is not offered: no PaddleSeg Swin config uses it.
"""

import numpy as np
import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.transformer import DropPath, Mlp, drop_path_rates

# Shifted-window attention adds this to the logits of token pairs from different regions
# of a cyclically shifted window (PaddleSeg's value; exp(-100) is 0 in float32).
SWIN_MASK_VALUE = -100.0


# Every reshape here spells its leading size out (from paddle.shape) instead of -1: Paddle
# Inference's oneDNN pass that fuses a reshape into the transpose or linear layer before
# it (operator_reshape_onednn_fuse_pass, Paddle 3.3) infers a -1 there wrongly, so the
# exported Swin failed to load under oneDNN ("input's shape is 1, -6272" at the first
# qkv layer).


def swin_window_partition(x, window_size):
    """N x Hp x Wp x C (sides multiples of window_size) -> (N * windows) x w*w x C,
    windows in row-major order within each image."""
    channels = x.shape[-1]
    size = paddle.shape(x)
    rows, cols = size[1] // window_size, size[2] // window_size
    x = x.reshape([size[0], rows, window_size, cols, window_size, channels])
    return x.transpose([0, 1, 3, 2, 4, 5]).reshape(
        [size[0] * rows * cols, window_size * window_size, channels]
    )


def swin_window_reverse(windows, window_size, height, width):
    """The inverse of swin_window_partition: (N * windows) x w*w x C -> N x H x W x C."""
    channels = windows.shape[-1]
    rows, cols = height // window_size, width // window_size
    batch = paddle.shape(windows)[0] // (rows * cols)
    x = windows.reshape([batch, rows, cols, window_size, window_size, channels])
    return x.transpose([0, 1, 3, 2, 4, 5]).reshape([batch, height, width, channels])


def swin_pad_nhwc(x, multiple):
    """N x H x W x C zero-padded at the bottom and right to sides that are multiples of
    `multiple`. Padded by multiple - 1 and cropped back rather than padded by a computed
    amount: the computed amount, (m - H % m) % m, has a negative lower bound in
    OpenVINO's shape-bound analysis, which then refused the exported ONNX model. The pad
    names all four axes: paddle2onnx 2.1 converts a constant 4-value pad with
    data_format="NHWC" wrong (the ONNX model's padded map held garbage)."""
    size = paddle.shape(x)
    x = F.pad(x, [0, 0, 0, multiple - 1, 0, multiple - 1, 0, 0])
    height = (size[1] + multiple - 1) // multiple * multiple
    width = (size[2] + multiple - 1) // multiple * multiple
    return x[:, :height, :width, :]


def swin_relative_position_index(window_size):
    """For every pair (i, j) of the w*w tokens of a window, the row of the bias table
    that holds their relative offset: (dy + w - 1) * (2w - 1) + (dx + w - 1), int64."""
    rows, cols = np.meshgrid(np.arange(window_size), np.arange(window_size), indexing="ij")
    coords = np.stack([rows.ravel(), cols.ravel()])  # 2 x w*w
    offsets = coords[:, :, None] - coords[:, None, :] + window_size - 1  # 2 x w*w x w*w
    return (offsets[0] * (2 * window_size - 1) + offsets[1]).astype(np.int64)


def swin_shift_mask(height, width, window_size, shift_size):
    """The attention mask of shifted windows on a padded Hp x Wp map: windows x w*w x
    w*w, SWIN_MASK_VALUE between tokens that came from different regions (the last
    window_size rows and columns are split at shift_size by the cyclic shift), else 0."""

    def regions(side):
        position = paddle.arange(side)
        return (position >= side - window_size).astype("float32") + (
            position >= side - shift_size
        ).astype("float32")

    region = regions(height).unsqueeze(1) * 3 + regions(width).unsqueeze(0)
    windows = swin_window_partition(region.unsqueeze(0).unsqueeze(-1), window_size).squeeze(-1)
    different = windows.unsqueeze(1) != windows.unsqueeze(2)
    return different.astype("float32") * SWIN_MASK_VALUE


class SwinWindowAttention(nn.Layer):
    """Multi-head self-attention within each window (W-MSA), with a learned bias per
    relative position; `mask` (windows x w*w x w*w) separates the regions of shifted
    windows."""

    def __init__(self, dim, window_size, num_heads, qkv_bias=True, attn_drop=0.0, proj_drop=0.0):
        super().__init__()
        self.dim = dim
        self.window_size = window_size
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.relative_position_bias_table = self.create_parameter(
            [(2 * window_size - 1) ** 2, num_heads],
            default_initializer=nn.initializer.TruncatedNormal(std=0.02),
        )
        self.register_buffer(
            "relative_position_index",
            paddle.to_tensor(swin_relative_position_index(window_size)),
        )
        self.qkv = nn.Linear(dim, dim * 3, bias_attr=None if qkv_bias else False)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x, mask=None):
        tokens = self.window_size * self.window_size
        head_dim = self.dim // self.num_heads
        count = paddle.shape(x)[0]  # windows times images
        qkv = self.qkv(x).reshape([count, tokens, 3, self.num_heads, head_dim])
        q, k, v = qkv.transpose([2, 0, 3, 1, 4]).unbind(0)
        attn = paddle.matmul(q * self.scale, k, transpose_y=True)
        bias = paddle.index_select(
            self.relative_position_bias_table, self.relative_position_index.reshape([-1])
        )
        bias = bias.reshape([tokens, tokens, self.num_heads]).transpose([2, 0, 1])
        attn = attn + bias.unsqueeze(0)
        if mask is not None:
            windows = paddle.shape(mask)[0]
            attn = attn.reshape([count // windows, windows, self.num_heads, tokens, tokens])
            attn = attn + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.reshape([count, self.num_heads, tokens, tokens])
        attn = self.attn_drop(F.softmax(attn, axis=-1))
        x = paddle.matmul(attn, v).transpose([0, 2, 1, 3]).reshape([count, tokens, self.dim])
        return self.proj_drop(self.proj(x))


class SwinBlock(nn.Layer):
    """One Swin Transformer block on an N x H x W x C map: layer norm, (shifted)
    window attention and a residual; layer norm, MLP and a residual. Blocks with a
    `shift_size` roll the map by it before partitioning and back afterwards."""

    def __init__(
        self,
        dim,
        num_heads,
        window_size=7,
        shift_size=0,
        mlp_ratio=4.0,
        qkv_bias=True,
        drop=0.0,
        attn_drop=0.0,
        drop_path=0.0,
    ):
        super().__init__()
        self.window_size = window_size
        self.shift_size = shift_size
        self.norm1 = nn.LayerNorm(dim)
        self.attn = SwinWindowAttention(dim, window_size, num_heads, qkv_bias, attn_drop, drop)
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop=drop)

    def forward(self, x, mask):
        size = paddle.shape(x)
        height, width = size[1], size[2]
        w = self.window_size
        # pad bottom and right to whole windows (zeros after the norm, as PaddleSeg pads)
        padded = swin_pad_nhwc(self.norm1(x), w)
        padded_size = paddle.shape(padded)
        if self.shift_size > 0:
            padded = paddle.roll(padded, shifts=(-self.shift_size, -self.shift_size), axis=(1, 2))
        windows = self.attn(
            swin_window_partition(padded, w), mask=mask if self.shift_size > 0 else None
        )
        y = swin_window_reverse(windows, w, padded_size[1], padded_size[2])
        if self.shift_size > 0:
            y = paddle.roll(y, shifts=(self.shift_size, self.shift_size), axis=(1, 2))
        x = x + self.drop_path(y[:, :height, :width, :])
        return x + self.drop_path(self.mlp(self.norm2(x)))


class SwinPatchMerging(nn.Layer):
    """Halve the resolution: pad to even sides, concatenate each 2x2 group's tokens
    (top-left, bottom-left, top-right, bottom-right, PaddleSeg's order), layer norm,
    and project 4C to 2C channels without bias."""

    def __init__(self, dim):
        super().__init__()
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias_attr=False)
        self.norm = nn.LayerNorm(4 * dim)

    def forward(self, x):
        x = swin_pad_nhwc(x, 2)
        x = paddle.concat(
            [x[:, 0::2, 0::2, :], x[:, 1::2, 0::2, :], x[:, 0::2, 1::2, :], x[:, 1::2, 1::2, :]],
            axis=-1,
        )
        return self.reduction(self.norm(x))


class SwinStage(nn.Layer):
    """`depth` blocks of one resolution, alternately plain and shifted (by half a
    window), then patch merging unless it is the last stage. forward(x) returns (the
    stage's map, the merged map for the next stage)."""

    def __init__(
        self,
        dim,
        depth,
        num_heads,
        window_size,
        mlp_ratio,
        qkv_bias,
        drop,
        attn_drop,
        drop_path,
        downsample,
    ):
        super().__init__()
        self.window_size = window_size
        self.shift_size = window_size // 2
        self.blocks = nn.LayerList(
            [
                SwinBlock(
                    dim,
                    num_heads,
                    window_size,
                    0 if i % 2 == 0 else self.shift_size,
                    mlp_ratio,
                    qkv_bias,
                    drop,
                    attn_drop,
                    drop_path[i],
                )
                for i in range(depth)
            ]
        )
        self.downsample = SwinPatchMerging(dim) if downsample else None

    def forward(self, x):
        size = paddle.shape(x)
        w = self.window_size
        mask = swin_shift_mask(
            (size[1] + w - 1) // w * w, (size[2] + w - 1) // w * w, w, self.shift_size
        )
        for block in self.blocks:
            x = block(x, mask)
        if self.downsample is None:
            return x, x
        return x, self.downsample(x)


class SwinPatchEmbed(nn.Layer):
    """Pad the image to whole patches (bottom, right), a patch_size-strided conv to
    embed_dim channels, and a layer norm over channels when `norm` is set."""

    def __init__(self, patch_size, in_channels, embed_dim, norm):
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2D(in_channels, embed_dim, patch_size, stride=patch_size)
        self.norm = nn.LayerNorm(embed_dim) if norm else None

    def forward(self, x):
        """N x C x H x W image -> N x H/p x W/p x embed_dim map (sides rounded up)."""
        x = swin_pad_nhwc(x.transpose([0, 2, 3, 1]), self.patch_size).transpose([0, 3, 1, 2])
        x = self.proj(x).transpose([0, 2, 3, 1])
        return self.norm(x) if self.norm is not None else x


class SwinTransformer(nn.Layer):
    """Swin Transformer returning the layer-normed maps of the stages in `out_indices`
    as N x C x H x W tensors (strides 4, 8, 16, 32; `feat_channels` gives their
    widths). Stochastic depth rises linearly over all blocks to drop_path_rate
    (training only). Linear weights and the bias tables start truncated-normal
    (std 0.02), biases at 0, as in PaddleSeg."""

    def __init__(
        self,
        embed_dim=96,
        depths=(2, 2, 6, 2),
        num_heads=(3, 6, 12, 24),
        window_size=7,
        patch_size=4,
        in_channels=3,
        mlp_ratio=4.0,
        qkv_bias=True,
        drop_rate=0.0,
        attn_drop_rate=0.0,
        drop_path_rate=0.2,
        ape=False,
        patch_norm=True,
        out_indices=(0, 1, 2, 3),
    ):
        super().__init__()
        if ape:
            raise ValueError("SwinTransformer: the absolute position embedding is not offered")
        self.out_indices = tuple(out_indices)
        self.patch_embed = SwinPatchEmbed(patch_size, in_channels, embed_dim, patch_norm)
        self.pos_drop = nn.Dropout(drop_rate)
        rates = drop_path_rates(drop_path_rate, sum(depths))
        self.layers = nn.LayerList()
        for i, depth in enumerate(depths):
            first = sum(depths[:i])
            self.layers.append(
                SwinStage(
                    embed_dim * 2**i,
                    depth,
                    num_heads[i],
                    window_size,
                    mlp_ratio,
                    qkv_bias,
                    drop_rate,
                    attn_drop_rate,
                    rates[first : first + depth],
                    downsample=i < len(depths) - 1,
                )
            )
        self.feat_channels = [embed_dim * 2**i for i in range(len(depths))]
        for i in self.out_indices:
            self.add_sublayer(f"norm{i}", nn.LayerNorm(self.feat_channels[i]))
        for layer in self.sublayers():
            if isinstance(layer, nn.Linear):
                nn.initializer.TruncatedNormal(std=0.02)(layer.weight)
                if layer.bias is not None:
                    nn.initializer.Constant(0.0)(layer.bias)

    def forward(self, x):
        x = self.pos_drop(self.patch_embed(x))
        outs = []
        for i, stage in enumerate(self.layers):
            out, x = stage(x)
            if i in self.out_indices:
                outs.append(getattr(self, f"norm{i}")(out).transpose([0, 3, 1, 2]))
        return outs


def SwinTransformer_base_patch4_window7_224(**kwargs):
    """Swin-B: 128 channels, 2, 2, 18 and 2 blocks with 4, 8, 16 and 32 heads, 7x7
    windows (pretrained on 224x224 ImageNet images in the paper)."""
    return SwinTransformer(
        embed_dim=128, depths=(2, 2, 18, 2), num_heads=(4, 8, 16, 32), window_size=7, **kwargs
    )
