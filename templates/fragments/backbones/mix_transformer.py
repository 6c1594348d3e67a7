"""Mix Transformer (MiT): the encoder of SegFormer, Xie et al., "SegFormer: Simple and
Efficient Design for Semantic Segmentation with Transformers" (NeurIPS 2021),
https://arxiv.org/abs/2105.15203.

A hierarchical vision transformer that, like a CNN, returns four feature maps at 1/4,
1/8, 1/16 and 1/32 of the input, so that a light head can fuse them. Three choices
make it a segmentation encoder rather than ViT:

- Overlapping patch embeddings: each stage starts with a strided convolution whose
  kernel is larger than its stride (7x7 stride 4, then 3x3 stride 2), so neighbouring
  patches share pixels and the local continuity around patch borders is kept.
- Efficient self-attention: keys and values come from the tokens reduced by a strided
  `sr_ratio` x `sr_ratio` convolution (8, 4, 2, 1 by stage), which cuts the attention's
  cost by sr_ratio squared at the high-resolution stages.
- Mix-FFN: a 3x3 depthwise convolution between the feed-forward layer's two linear
  layers leaks enough zero-padding position information that the model needs no
  position embedding at all, so any input size works without interpolating one.

B0 to B5 differ in widths (B0 is half as wide as the others) and in the number of
blocks per stage. Stochastic depth (layers/transformer.py's DropPath) rises linearly
from 0 to 0.1 over all blocks, in training only.

Attribute names (`patch_embed1`, `block1`, `attn.q`, `attn.kv`, `attn.sr`,
`mlp.dwconv.dwconv`, `norm1`...) follow PaddleSeg 2.8's MixVisionTransformer so that
its checkpoints load unchanged.
"""

import math

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.transformer import DropPath, drop_path_rates


class MixPatchEmbed(nn.Layer):
    """Overlapping patch embedding: a strided conv (kernel `patch_size`, padding half of
    it) and a layer norm over channels. forward(x) returns the tokens (N x HW x C) and
    the map's height and width, which the blocks need to fold tokens back to a map."""

    def __init__(self, in_channels, embed_dim, patch_size, stride):
        super().__init__()
        self.proj = nn.Conv2D(
            in_channels, embed_dim, patch_size, stride=stride, padding=patch_size // 2
        )
        # Paddle's default epsilon (1e-5) here, unlike the blocks' 1e-6, as in PaddleSeg.
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x):
        x = self.proj(x)
        size = paddle.shape(x)
        return self.norm(x.flatten(2).transpose([0, 2, 1])), size[2], size[3]


class EfficientSelfAttention(nn.Layer):
    """Multi-head self-attention whose keys and values come from the token map
    downsampled by a `sr_ratio` x `sr_ratio` strided conv (`sr`, then layer norm):
    cost N x N / sr_ratio^2 instead of N x N. Queries keep every token."""

    def __init__(self, dim, num_heads, sr_ratio, qkv_bias=True, attn_drop=0.0, proj_drop=0.0):
        super().__init__()
        self.dim = dim
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        bias = None if qkv_bias else False
        self.q = nn.Linear(dim, dim, bias_attr=bias)
        self.kv = nn.Linear(dim, dim * 2, bias_attr=bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.sr_ratio = sr_ratio
        if sr_ratio > 1:
            self.sr = nn.Conv2D(dim, dim, sr_ratio, stride=sr_ratio)
            self.norm = nn.LayerNorm(dim)

    def forward(self, x, height, width):
        head_dim = self.dim // self.num_heads
        q = self.q(x).reshape([0, 0, self.num_heads, head_dim]).transpose([0, 2, 1, 3])
        if self.sr_ratio > 1:
            image = x.transpose([0, 2, 1]).reshape([0, self.dim, height, width])
            x = self.norm(self.sr(image).flatten(2).transpose([0, 2, 1]))
        kv = self.kv(x).reshape([0, 0, 2, self.num_heads, head_dim]).transpose([2, 0, 3, 1, 4])
        # paddle.matmul, not a layer: paddle.flops does not count the attention products
        # (nor does it in PaddleSeg's model, whose FLOPs the model zoo reports).
        attn = F.softmax(paddle.matmul(q, kv[0], transpose_y=True) * self.scale, axis=-1)
        out = paddle.matmul(self.attn_drop(attn), kv[1])
        out = out.transpose([0, 2, 1, 3]).reshape([0, 0, self.dim])
        return self.proj_drop(self.proj(out))


class MixFFNDepthwiseConv(nn.Layer):
    """A 3x3 depthwise conv on tokens: fold them to a map, convolve, flatten back."""

    def __init__(self, dim):
        super().__init__()
        self.dim = dim
        self.dwconv = nn.Conv2D(dim, dim, 3, padding=1, groups=dim)

    def forward(self, x, height, width):
        image = x.transpose([0, 2, 1]).reshape([0, self.dim, height, width])
        return self.dwconv(image).flatten(2).transpose([0, 2, 1])


class MixFFN(nn.Layer):
    """Mix-FFN: linear (widening), 3x3 depthwise conv, GELU, linear back, each linear
    followed by dropout. The depthwise conv gives the tokens their position."""

    def __init__(self, dim, hidden_dim, drop=0.0):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.dwconv = MixFFNDepthwiseConv(hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x, height, width):
        x = self.drop(self.act(self.dwconv(self.fc1(x), height, width)))
        return self.drop(self.fc2(x))


class MixTransformerBlock(nn.Layer):
    """Pre-norm transformer block: x + attn(norm1(x)), then x + mlp(norm2(x)), each
    residual branch behind stochastic depth."""

    def __init__(self, dim, num_heads, sr_ratio, mlp_ratio=4, drop_path=0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, epsilon=1e-6)
        self.attn = EfficientSelfAttention(dim, num_heads, sr_ratio)
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim, epsilon=1e-6)
        self.mlp = MixFFN(dim, int(dim * mlp_ratio))

    def forward(self, x, height, width):
        x = x + self.drop_path(self.attn(self.norm1(x), height, width))
        return x + self.drop_path(self.mlp(self.norm2(x), height, width))


class MixVisionTransformer(nn.Layer):
    """Mix Transformer encoder; forward(x) returns the four stage outputs (N x C x H x W)
    at 1/4, 1/8, 1/16 and 1/32 of the input, `feat_channels` wide.

    Args:
        embed_dims: channels of the four stages.
        depths: transformer blocks per stage.
        num_heads: attention heads per stage.
        sr_ratios: spatial reduction of the keys and values per stage.
        mlp_ratio: Mix-FFN hidden width over the stage's width.
        drop_path_rate: stochastic-depth rate of the last block (0 for the first, linear
            in between, over all stages' blocks).
        in_channels: channels of the input image.
    """

    def __init__(
        self,
        embed_dims,
        depths,
        num_heads=(1, 2, 5, 8),
        sr_ratios=(8, 4, 2, 1),
        mlp_ratio=4,
        drop_path_rate=0.1,
        in_channels=3,
    ):
        super().__init__()
        self.feat_channels = list(embed_dims)
        self.depths = list(depths)
        rates = drop_path_rates(drop_path_rate, sum(depths))
        previous = in_channels
        first = 0
        for stage, (dim, depth) in enumerate(zip(embed_dims, depths), start=1):
            # Stage 1 embeds 7x7 patches every 4 pixels; later stages 3x3 every 2.
            patch_size, stride = (7, 4) if stage == 1 else (3, 2)
            setattr(self, f"patch_embed{stage}", MixPatchEmbed(previous, dim, patch_size, stride))
            blocks = [
                MixTransformerBlock(
                    dim, num_heads[stage - 1], sr_ratios[stage - 1], mlp_ratio, rates[first + i]
                )
                for i in range(depth)
            ]
            setattr(self, f"block{stage}", nn.LayerList(blocks))
            setattr(self, f"norm{stage}", nn.LayerNorm(dim, epsilon=1e-6))
            previous = dim
            first += depth
        init_mix_transformer_weights(self)

    def forward(self, x):
        feats = []
        for stage in range(1, 5):
            x, height, width = getattr(self, f"patch_embed{stage}")(x)
            for block in getattr(self, f"block{stage}"):
                x = block(x, height, width)
            x = getattr(self, f"norm{stage}")(x)
            channels = self.feat_channels[stage - 1]
            x = x.reshape([0, height, width, channels]).transpose([0, 3, 1, 2])
            feats.append(x)
        return feats


def init_mix_transformer_weights(model):
    """The paper's (and PaddleSeg's) initialisation: linear weights from a normal
    distribution truncated at two standard deviations (std 0.02), convolutions He-normal
    over their fan-out (per group), biases zero, layer norms the identity."""
    for layer in model.sublayers():
        if isinstance(layer, nn.Linear):
            nn.initializer.TruncatedNormal(std=0.02)(layer.weight)
            if layer.bias is not None:
                nn.initializer.Constant(0.0)(layer.bias)
        elif isinstance(layer, nn.LayerNorm):
            nn.initializer.Constant(1.0)(layer.weight)
            nn.initializer.Constant(0.0)(layer.bias)
        elif isinstance(layer, nn.Conv2D):
            kernel = layer.weight.shape[2] * layer.weight.shape[3]
            fan_out = kernel * layer.weight.shape[0] // layer._groups
            nn.initializer.Normal(0.0, math.sqrt(2.0 / fan_out))(layer.weight)
            if layer.bias is not None:
                nn.initializer.Constant(0.0)(layer.bias)


def MixVisionTransformer_B0(**kwargs):
    return MixVisionTransformer(embed_dims=(32, 64, 160, 256), depths=(2, 2, 2, 2), **kwargs)


def MixVisionTransformer_B1(**kwargs):
    return MixVisionTransformer(embed_dims=(64, 128, 320, 512), depths=(2, 2, 2, 2), **kwargs)


def MixVisionTransformer_B2(**kwargs):
    return MixVisionTransformer(embed_dims=(64, 128, 320, 512), depths=(3, 4, 6, 3), **kwargs)


def MixVisionTransformer_B3(**kwargs):
    return MixVisionTransformer(embed_dims=(64, 128, 320, 512), depths=(3, 4, 18, 3), **kwargs)


def MixVisionTransformer_B4(**kwargs):
    return MixVisionTransformer(embed_dims=(64, 128, 320, 512), depths=(3, 8, 27, 3), **kwargs)


def MixVisionTransformer_B5(**kwargs):
    return MixVisionTransformer(embed_dims=(64, 128, 320, 512), depths=(3, 6, 40, 3), **kwargs)
