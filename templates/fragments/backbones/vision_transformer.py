"""Vision Transformer (Dosovitskiy et al., An Image is Worth 16x16 Words: Transformers for
Image Recognition at Scale, ICLR 2021) as a segmentation backbone.

The image is cut into non-overlapping patches (one strided convolution), each patch
becomes a token, a learned class token is prepended and a learned position embedding
added; a stack of pre-norm transformer blocks (multi-head self-attention, then an MLP,
each with a residual connection and stochastic depth) then lets every token attend to
every other, so even the first block sees the whole image. Segmentation models read the
patch tokens of several blocks (the class token dropped) and fold them back into maps of
the patch grid.

The position embedding is learned for the pre-training grid (`img_size` / `patch_size`,
24 x 24 for ViT-L/16 at 384); an input whose token count differs gets it resized
bicubically to its own patch grid, so any input size divisible by the patch size works.
Attribute names (`patch_embed.proj`, `cls_token`, `pos_embed`, `blocks.i.attn.qkv`,
`norm1`, `mlp.fc1`, `norm`) follow PaddleSeg 2.8 so that its checkpoints load without
renaming.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.transformer import DropPath, Mlp, drop_path_rates


class ViTAttention(nn.Layer):
    """Multi-head self-attention over tokens (N x L x C): one linear layer gives queries,
    keys and values for all heads, scaled dot-product attention per head, a linear
    projection back. `qk_scale` replaces the usual 1 / sqrt(head dim) when given."""

    def __init__(self, dim, num_heads, qkv_bias=False, qk_scale=None, attn_drop=0.0, proj_drop=0.0):
        super().__init__()
        self.num_heads = num_heads
        self.scale = qk_scale or (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias_attr=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x):
        channels = x.shape[2]
        qkv = self.qkv(x).reshape([0, -1, 3, self.num_heads, channels // self.num_heads])
        q, k, v = qkv.transpose([2, 0, 3, 1, 4]).unbind(0)  # each N x heads x L x C/heads
        attn = F.softmax(paddle.matmul(q, k, transpose_y=True) * self.scale, axis=-1)
        x = paddle.matmul(self.attn_drop(attn), v).transpose([0, 2, 1, 3])
        return self.proj_drop(self.proj(x.reshape([0, -1, channels])))


class ViTBlock(nn.Layer):
    """A pre-norm transformer block: x + attention(norm1(x)), then x + MLP(norm2(x)), each
    branch skipped for whole samples at rate `drop_path` while training."""

    def __init__(
        self,
        dim,
        num_heads,
        mlp_ratio=4.0,
        qkv_bias=False,
        qk_scale=None,
        drop=0.0,
        attn_drop=0.0,
        drop_path=0.0,
        epsilon=1e-5,
    ):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, epsilon=epsilon)
        self.attn = ViTAttention(dim, num_heads, qkv_bias, qk_scale, attn_drop, drop)
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim, epsilon=epsilon)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop=drop)

    def forward(self, x):
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class ViTPatchEmbed(nn.Layer):
    """Non-overlapping `patch_size` patches to `embed_dim` channels: a convolution whose
    kernel and stride are the patch size (N x C x H/p x W/p)."""

    def __init__(self, in_channels, embed_dim, patch_size):
        super().__init__()
        self.proj = nn.Conv2D(in_channels, embed_dim, patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x)


class VisionTransformer(nn.Layer):
    """ViT backbone. forward(x) returns (features, grid_shape): the patch tokens
    (N x h*w x embed_dim, class token dropped) after every block, one entry per block
    (the last one after the final LayerNorm when `final_norm`), and the shape
    [N, embed_dim, h, w] of the patch grid, which heads need to fold tokens into maps.

    `img_size` (square) fixes the grid the position embedding is learned for; `drop_path_rate` is the stochastic depth of the last
    block, rising linearly from 0 at the first.
    """

    def __init__(
        self,
        img_size=224,
        patch_size=16,
        in_channels=3,
        embed_dim=768,
        depth=12,
        num_heads=12,
        mlp_ratio=4,
        qkv_bias=False,
        qk_scale=None,
        drop_rate=0.0,
        attn_drop_rate=0.0,
        drop_path_rate=0.0,
        epsilon=1e-5,
        final_norm=False,
    ):
        super().__init__()
        self.embed_dim = embed_dim
        self.grid = [img_size // patch_size, img_size // patch_size]
        self.patch_embed = ViTPatchEmbed(in_channels, embed_dim, patch_size)
        self.pos_embed = self.create_parameter(
            shape=[1, self.grid[0] * self.grid[1] + 1, embed_dim],
            default_initializer=nn.initializer.TruncatedNormal(std=0.02),
        )
        self.cls_token = self.create_parameter(
            shape=[1, 1, embed_dim], default_initializer=nn.initializer.Constant(0.0)
        )
        self.pos_drop = nn.Dropout(drop_rate)
        self.blocks = nn.LayerList(
            [
                ViTBlock(
                    embed_dim,
                    num_heads,
                    mlp_ratio,
                    qkv_bias,
                    qk_scale,
                    drop_rate,
                    attn_drop_rate,
                    rate,
                    epsilon,
                )
                for rate in drop_path_rates(drop_path_rate, depth)
            ]
        )
        self.final_norm = final_norm
        if final_norm:
            self.norm = nn.LayerNorm(embed_dim, epsilon=epsilon)

    def position_embedding(self, grid_hw):
        """The class token's embedding followed by the patch embeddings bicubically
        resized (corners not aligned) from the learned grid to `grid_hw` [h, w]."""
        cls_embed = self.pos_embed[:, :1, :]
        patch_embed = self.pos_embed[:, 1:, :].transpose([0, 2, 1])
        patch_embed = patch_embed.reshape([1, self.embed_dim, self.grid[0], self.grid[1]])
        patch_embed = F.interpolate(patch_embed, grid_hw, mode="bicubic", align_corners=False)
        return paddle.concat([cls_embed, patch_embed.flatten(2).transpose([0, 2, 1])], axis=1)

    def forward(self, x):
        x = self.patch_embed(x)
        grid_shape = paddle.shape(x)  # N, C, h, w
        tokens = x.flatten(2).transpose([0, 2, 1])
        cls_tokens = self.cls_token.expand([grid_shape[0], -1, -1])
        x = paddle.concat([cls_tokens, tokens], axis=1)
        # As PaddleSeg decides: the learned embedding as it is when the token count
        # matches it, resized otherwise. A traced (exported) program always resizes: the
        # same numbers at the learned grid, where bicubic resizing to the same size is
        # the identity, and no data-dependent branch in the graph (an If operator, which
        # OpenVINO computed wrongly from paddle2onnx's ONNX: NaN features).
        if paddle.in_dynamic_mode() and x.shape[1] == self.pos_embed.shape[1]:
            x = x + self.pos_embed
        else:
            x = x + self.position_embedding(grid_shape[2:])
        x = self.pos_drop(x)
        features = []
        for block in self.blocks:
            x = block(x)
            features.append(x[:, 1:, :])
        if self.final_norm:
            x = self.norm(x)
            features[-1] = x[:, 1:, :]
        return features, grid_shape


def tokens_to_map(tokens, grid_shape):
    """Patch tokens (N x h*w x C, row by row) folded into an N x C x h x w map, as the
    heads on a ViT need them; `grid_shape` is the backbone's [N, C, h, w] patch grid."""
    height, width = grid_shape[2], grid_shape[3]
    return tokens.reshape([0, height, width, tokens.shape[-1]]).transpose([0, 3, 1, 2])


def ViT_large_patch16_384(**kwargs):
    """ViT-L/16 pre-trained at 384x384: 24 blocks of width 1024, 16 heads, MLP ratio 4,
    query/key/value biases, LayerNorm epsilon 1e-6 (what SETR builds on)."""
    return VisionTransformer(
        img_size=384,
        patch_size=16,
        embed_dim=1024,
        depth=24,
        num_heads=16,
        mlp_ratio=4,
        qkv_bias=True,
        epsilon=1e-6,
        **kwargs,
    )
