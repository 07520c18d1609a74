"""Every lecture architecture, parameter-exact with torchvision where torchvision has it.

``models.get("resnet18", num_classes=10)`` builds a registered model, ``models.list()`` names
them (``models.list(small=True)``: the 28x28 / 32x32 variants the lessons train), and
``models.compare("alexnet", "vgg16")`` prints the two side by side. Each architecture lives in
its own file as block factories named after the paper plus a thin model class whose spec is
data; module names equal torchvision's, so ``state_dict()`` keys map one to one.
"""

from .alexnet import AlexNet, ConvSpec, alexnet, alexnet_paper, alexnet_small
from .cifar_resnet import ShortcutA, cifar_resnet, resnet20, resnet32, resnet44, resnet56, resnet110
from .compare import (
    Comparison,
    ModelFacts,
    analyze,
    compare,
    compare_command,
    format_comparison,
)
from .course import CNNblocks, CNNConfig, ConvBlock, NeuralNetwork, cnn_blocks, neural_network
from .densenet import (
    DenseNet,
    _DenseBlock,
    _DenseLayer,
    _Transition,
    densenet121,
    densenet169,
    densenet201,
    densenet_cifar,
)
from .googlenet import (
    BasicConv2d,
    GoogLeNet,
    GoogLeNetOutputs,
    Inception,
    InceptionAux,
    googlenet,
    googlenet_small,
)
from .highway import HighwayLayer, HighwayNetwork, highway
from .lenet import LeNet5, lenet5, lenet5_1998
from .nin import NiN, nin, nin_block, nin_small
from .registry import ModelEntry, entry, get, input_size, list_models, register
from .resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    resnet18,
    resnet18_cifar,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
)
from .resnet_variants import (
    resnext50_32x4d,
    resnext_cifar,
    se_resnet50,
    se_resnet_cifar,
    wide_resnet50_2,
)
from .se import SEBlock
from .squeezenet import Fire, SqueezeNet, squeezenet1_0, squeezenet1_1, squeezenet_cifar
from .stochastic_depth import DropPath, drop_path
from .vgg import (
    VGG,
    vgg11,
    vgg11_bn,
    vgg11_small,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
    vgg_block,
)

list = list_models  # noqa: A001  (models.list(), as the registry's public name)
