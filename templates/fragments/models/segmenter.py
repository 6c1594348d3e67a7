"""Segmenter: Strudel et al., "Segmenter: Transformer for Semantic Segmentation" (ICCV 2021).

A plain Vision Transformer encodes the image as patch tokens; the decoder turns the last
block's patch tokens into class scores on the patch grid, which are bilinearly upsampled
to the input. Why a transformer all the way: every patch attends to the whole image from
the first block on, so the context that CNN decoders recover with dilation or pyramid
pooling is there from the start, and the decoder can stay light.

Two decoders. The linear one classifies each patch token on its own (one linear layer).
The mask transformer appends one learned embedding per class to the patch tokens, runs a
few transformer blocks over both, so that the class embeddings gather what the image
holds of their class and the patches see the classes, and scores each class as the
cosine similarity of its embedding with each patch (both projected and L2-normalised),
followed by a LayerNorm over the classes. It adds about 4 M (ViT-S) to 16 M (ViT-B)
parameters and about one point of ADE20K mIoU in the paper.

Attribute names (`head.head`; `head.proj_input`, `head.cls_token`, `head.blocks`,
`head.proj_patch`, `head.proj_class`, `head.decoder_norm`, `head.mask_norm`) and the
blocks' own follow PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
from paddle import nn

from ..backbones.vision_transformer import ViTBlock, tokens_to_map
from ..layers.basic import resize_to_input
from ..layers.transformer import drop_path_rates


def segmenter_init_weights(layer):
    """PaddleSeg's initialisation of the Segmenter decoders: every linear layer's weight
    from a normal distribution (std 0.02) truncated at two standard deviations, its bias
    zero (LayerNorms keep their ones and zeros)."""
    for sublayer in layer.sublayers(include_self=True):
        if isinstance(sublayer, nn.Linear):
            nn.initializer.TruncatedNormal(std=0.02)(sublayer.weight)
            if sublayer.bias is not None:
                nn.initializer.Constant(0.0)(sublayer.bias)


class SegmenterLinearHead(nn.Layer):
    """One linear layer from each patch token to class scores, folded back into a map."""

    def __init__(self, num_classes, in_dim):
        super().__init__()
        self.head = nn.Linear(in_dim, num_classes)
        segmenter_init_weights(self)

    def forward(self, tokens, grid_shape):
        return [tokens_to_map(self.head(tokens), grid_shape)]


class SegmenterMaskHead(nn.Layer):
    """The mask transformer: patch tokens projected to `embed_dim`, one learned class
    embedding per class appended, `depth` transformer blocks over both (stochastic depth
    rising linearly to `drop_path_rate`), a LayerNorm; then each class's score at each
    patch is the dot product of the L2-normalised projected patch and class embeddings,
    normalised over the classes by a LayerNorm."""

    def __init__(
        self,
        num_classes,
        in_dim,
        embed_dim,
        depth,
        num_heads,
        mlp_ratio=4,
        drop_rate=0.0,
        drop_path_rate=0.0,
        attn_drop_rate=0.0,
        qkv_bias=False,
    ):
        super().__init__()
        self.num_classes = num_classes
        self.proj_input = nn.Linear(in_dim, embed_dim)
        self.cls_token = self.create_parameter(
            shape=[1, num_classes, embed_dim],
            default_initializer=nn.initializer.TruncatedNormal(std=0.02),
        )
        self.blocks = nn.LayerList(
            [
                ViTBlock(
                    embed_dim,
                    num_heads,
                    mlp_ratio=mlp_ratio,
                    qkv_bias=qkv_bias,
                    drop=drop_rate,
                    attn_drop=attn_drop_rate,
                    drop_path=rate,
                )
                for rate in drop_path_rates(drop_path_rate, depth)
            ]
        )
        self.proj_patch = nn.Linear(embed_dim, embed_dim, bias_attr=False)
        self.proj_class = nn.Linear(embed_dim, embed_dim, bias_attr=False)
        self.decoder_norm = nn.LayerNorm(embed_dim)
        self.mask_norm = nn.LayerNorm(num_classes)
        segmenter_init_weights(self)

    def forward(self, tokens, grid_shape):
        x = self.proj_input(tokens)
        num_patches = paddle.shape(x)[1]
        classes = self.cls_token.expand([paddle.shape(x)[0], -1, -1])
        x = paddle.concat([x, classes], axis=1)
        for block in self.blocks:
            x = block(x)
        x = self.decoder_norm(x)
        # split where the patches end, not `num_classes` before the end: OpenVINO 2026.4
        # cannot read the model sliced from the end (it loses the length of the patches)
        patches = self.proj_patch(x[:, :num_patches])
        classes = self.proj_class(x[:, num_patches:])
        patches = patches / paddle.norm(patches, axis=-1, keepdim=True)
        classes = classes / paddle.norm(classes, axis=-1, keepdim=True)
        masks = self.mask_norm(paddle.matmul(patches, classes, transpose_y=True))
        return [tokens_to_map(masks, grid_shape)]


class LinearSegmenter(nn.Layer):
    """Segmenter with the linear decoder. forward(x) returns [logits] resized to x's
    height and width.

    Args:
        num_classes: number of classes.
        backbone: a VisionTransformer (forward returns the patch tokens of every block
            and the patch grid's shape, and it exposes `embed_dim`); the decoder reads
            the last block's tokens.
    """

    def __init__(self, num_classes, backbone):
        super().__init__()
        self.backbone = backbone
        self.head = SegmenterLinearHead(num_classes, backbone.embed_dim)

    def forward(self, x):
        features, grid_shape = self.backbone(x)
        return resize_to_input(self.head(features[-1], grid_shape), x, False)


class MaskSegmenter(nn.Layer):
    """Segmenter with the mask-transformer decoder. forward(x) returns [logits] resized
    to x's height and width.

    Args:
        num_classes: number of classes.
        backbone: a VisionTransformer, as LinearSegmenter takes it.
        h_embed_dim: token width of the decoder.
        h_depth: transformer blocks of the decoder.
        h_num_heads: attention heads per decoder block.
        h_mlp_ratio: hidden width of the decoder's MLPs over its token width.
        h_drop_rate: dropout in the decoder's MLPs and after its attention projections.
        h_drop_path_rate: stochastic depth of the decoder's last block (training only),
            rising linearly from 0 at its first.
        h_attn_drop_rate: dropout of the decoder's attention weights.
        h_qkv_bias: biases in the decoder's query/key/value projections.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        h_embed_dim,
        h_depth,
        h_num_heads,
        h_mlp_ratio=4,
        h_drop_rate=0.0,
        h_drop_path_rate=0.0,
        h_attn_drop_rate=0.0,
        h_qkv_bias=False,
    ):
        super().__init__()
        self.backbone = backbone
        self.head = SegmenterMaskHead(
            num_classes,
            backbone.embed_dim,
            h_embed_dim,
            h_depth,
            h_num_heads,
            h_mlp_ratio,
            h_drop_rate,
            h_drop_path_rate,
            h_attn_drop_rate,
            h_qkv_bias,
        )

    def forward(self, x):
        features, grid_shape = self.backbone(x)
        return resize_to_input(self.head(features[-1], grid_shape), x, False)
