"""The architecture zoo: parameter counts against torchvision's and the papers', the shapes of
every model at 8x8 and 32x32, and forward + backward through each kind of block."""

import numpy as np
import pytest
import striate.functional as F

import striate
from striate import nn
from striate.models import MODELS, create_model, list_models, zoo
from striate.models._common import conv_out, resolve_variant
from striate.models.googlenet import GoogLeNetOutputs, googlenet_loss
from striate.models.stats import count_parameters, output_shape, skip_init

# torchvision's parameter counts for 1000 classes, from its documentation (the "num_params" of each
# model's weights: https://pytorch.org/vision/stable/models.html); torchvision itself cannot be
# installed beside torch 2.13 here. GoogLeNet's is without the auxiliary classifiers.
TORCHVISION = {
    "alexnet": 61_100_840,
    "vgg11": 132_863_336,
    "vgg11_bn": 132_868_840,
    "vgg13": 133_047_848,
    "vgg13_bn": 133_053_736,
    "vgg16": 138_357_544,
    "vgg16_bn": 138_365_992,
    "vgg19": 143_667_240,
    "vgg19_bn": 143_678_248,
    "googlenet": 6_624_904,
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
    "wide_resnet50_2": 68_883_240,
    "resnext50_32x4d": 25_028_904,
    "densenet121": 7_978_856,
    "squeezenet1_0": 1_248_424,
    "squeezenet1_1": 1_235_496,
}

ZOO = sorted(zoo.ZOO)


def _count(name, num_classes=1000, input_shape=(3, 224, 224), **kwargs):
    with skip_init():  # zeros, not random draws: VGG's 138M parameters cost nothing
        return count_parameters(getattr(striate.models, name)(num_classes, input_shape, **kwargs))


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_imagenet_parameter_counts_equal_torchvision(name):
    assert _count(name) == TORCHVISION[name]
    assert zoo.TORCHVISION_PARAMS[name] == TORCHVISION[name]


def test_the_torchvision_constructors_default_to_imagenet():
    with skip_init():
        model = striate.models.resnet18(num_classes=1000)
    assert model.variant == "imagenet" and model.conv1.kernel_size == (7, 7)
    assert model.maxpool is not None


def test_googlenet_with_auxiliary_classifiers_has_torchvisions_count():
    # torchvision's GoogLeNet(aux_logits=True): 2 x (128*512 conv + BN + 2048*1024 + 1024*1000 FC)
    assert _count("googlenet", aux_logits=True) == 13_004_888


@pytest.mark.parametrize("name,paper", [("resnet20", 0.27), ("resnet32", 0.46),
                                        ("resnet56", 0.85), ("resnet110", 1.7)])
def test_cifar_resnets_have_the_papers_counts(name, paper):
    # He et al. 2015, table 6 (option A: parameter-free shortcuts), 10 classes
    n = _count(name, 10, (3, 32, 32))
    assert round(n / 1e6, 2 if paper < 1 else 1) == paper


def test_option_b_shortcuts_add_the_projections():
    a = _count("resnet20", 10, (3, 32, 32))
    b = _count("resnet20", 10, (3, 32, 32), shortcut="B")
    # two projections, 16->32 and 32->64, each a 1x1 conv and a BN
    assert b - a == (16 * 32 + 2 * 32) + (32 * 64 + 2 * 64)


@pytest.mark.parametrize("name,count", [
    ("lenet5", 61_706),       # LeCun et al. 1998 on 32x32, C3 fully connected
    ("nin", 966_986),         # the CIFAR-10 NiN: 0.97M
    ("wrn_28_10", 36_479_194),  # Zagoruyko & Komodakis: 36.5M
    ("wrn_16_4", 2_748_890),    # 2.7M
])
def test_small_image_models_have_the_papers_counts(name, count):
    shape = (1, 32, 32) if name == "lenet5" else (3, 32, 32)
    assert _count(name, 10, shape) == count


@pytest.mark.parametrize("name", ZOO)
@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 32, 32)])
def test_every_zoo_model_maps_small_images_to_scores(name, shape):
    # shape inference only (the big ones are too slow to run in a unit test)
    with skip_init():
        model = create_model(name, num_classes=7, input_shape=shape)
    assert name in MODELS and name in list_models()
    assert output_shape(model, shape) == (1, 7)


@pytest.mark.parametrize("name", ["lenet5", "resnet20", "preact_resnet20", "squeezenet1_0",
                                  "squeezenet1_1", "nin", "alexnet", "zfnet"])
@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 32, 32)])
def test_small_variants_train(name, shape):
    striate.manual_seed(0)
    model = create_model(name, num_classes=5, input_shape=shape)
    out = model(striate.randn(2, *shape))
    assert out.shape == (2, 5)
    F.cross_entropy(out, striate.tensor(np.array([1, 3]))).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing
    assert all(np.isfinite(p.grad.array).all() for p in model.parameters())


def _train_step(model, shape, n=2):
    out = model(striate.randn(n, *shape))
    out.sum().backward()
    assert out.shape == (n, model_classes(model))
    assert all(p.grad is not None for p in model.parameters())


def model_classes(model):
    last = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))][-1]
    return last.out_features if isinstance(last, nn.Linear) else last.out_channels


@pytest.mark.parametrize("block", ["basic", "bottleneck", "resnext"])
def test_resnet_blocks_train_on_8x8(block):
    striate.manual_seed(0)
    from striate.models.resnet import BasicBlock, Bottleneck, ResNet

    kind = BasicBlock if block == "basic" else Bottleneck
    kwargs = {"groups": 4, "width_per_group": 4} if block == "resnext" else {}
    model = ResNet(kind, (1, 1, 1, 1), num_classes=3, input_shape=(1, 8, 8), **kwargs)
    assert model.variant == "small" and model.maxpool is None
    _train_step(model, (1, 8, 8))


def test_preact_and_wide_resnets_train():
    striate.manual_seed(0)
    from striate.models.resnet_cifar import PreActResNet, wide_resnet

    _train_step(PreActResNet((1, 1), (8, 16), num_classes=3, input_shape=(3, 32, 32)), (3, 32, 32))
    wrn = wide_resnet(10, 2, num_classes=3, input_shape=(1, 8, 8), dropout=0.3)
    assert [m.dropout.p for m in wrn.layers] == [0.3, 0.3, 0.3]
    _train_step(wrn, (1, 8, 8))


def test_preactivation_blocks_leave_the_identity_path_unactivated():
    # identity mappings: with both convs zero the block is exactly the identity (no ReLU after)
    from striate.models.resnet_cifar import PreActBlock

    block = PreActBlock(4, 4)
    for conv in (block.conv1, block.conv2):
        conv.weight.array[...] = 0
    x = striate.randn(2, 4, 5, 5)
    np.testing.assert_array_equal(block(x).array, x.array)


def test_vgg_and_densenet_train_with_small_configs():
    striate.manual_seed(0)
    from striate.models.densenet import DenseNet
    from striate.models.vgg import VGG

    _train_step(VGG((8, "M", 16, "M", 16, "M", 16, "M"), batch_norm=True, num_classes=3,
                    input_shape=(1, 8, 8)), (1, 8, 8))
    dense = DenseNet(4, (2, 2), num_init_features=8, bn_size=2, num_classes=3,
                     input_shape=(3, 32, 32))
    _train_step(dense, (3, 32, 32))
    # each dense layer sees every earlier map: 8 + 2*4 channels in, halved by the transition
    t = dense.features.transition1
    assert t.norm.num_features == 16 and t.conv.out_channels == 8


def test_googlenet_auxiliary_classifiers_in_training_mode():
    striate.manual_seed(0)
    model = striate.models.googlenet(num_classes=4, input_shape=(1, 8, 8), aux_logits=True)
    out = model(striate.randn(2, 1, 8, 8))
    assert isinstance(out, GoogLeNetOutputs)
    assert [o.shape for o in out] == [(2, 4)] * 3
    loss = googlenet_loss(out, striate.tensor(np.array([0, 3])))
    main = F.cross_entropy(out.logits, striate.tensor(np.array([0, 3])))
    assert loss.item() > main.item()
    loss.backward()
    assert model.aux1.fc2.weight.grad is not None and model.aux2.fc2.weight.grad is not None
    model.eval()
    with striate.no_grad():
        assert model(striate.randn(2, 1, 8, 8)).shape == (2, 4)  # eval: the logits alone


def test_variant_follows_input_size_or_the_argument():
    assert resolve_variant((3, 32, 32), None, "m") == "small"
    assert resolve_variant((3, 64, 64), None, "m") == "small"
    assert resolve_variant((3, 96, 96), None, "m") == "imagenet"
    assert resolve_variant((3, 32, 32), "imagenet", "m") == "imagenet"
    with pytest.raises(ValueError, match="variant must be 'imagenet', 'small' or None, got 'x'"):
        resolve_variant((3, 32, 32), "x", "m")
    with skip_init():
        small = striate.models.resnet50(10, (3, 32, 32))
        big = striate.models.resnet50(10, (3, 32, 32), variant="imagenet")
    assert small.conv1.kernel_size == (3, 3) and small.conv1.stride == (1, 1)
    assert big.conv1.kernel_size == (7, 7)
    assert count_parameters(big) - count_parameters(small) == 64 * 3 * (49 - 9)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"input_shape must be \(C, H, W\)"):
        create_model("resnet18", num_classes=10, input_shape=(32, 32))
    with pytest.raises(ValueError, match="depth must be 6n \\+ 2"):
        striate.models.CifarResNet(depth=21)
    with pytest.raises(ValueError, match="shortcut must be 'A' or 'B'"):
        striate.models.resnet20(shortcut="C")
    with pytest.raises(ValueError, match="depth must be 6n \\+ 4"):
        striate.models.wide_resnet(depth=27)
    with pytest.raises(ValueError, match="version must be"):
        striate.models.SqueezeNet("2_0")


@pytest.mark.parametrize("size,k,s", [(7, 3, 2), (8, 3, 2), (6, 2, 2), (13, 3, 2)])
def test_ceil_max_pool_matches_torch(size, k, s):
    from opcheck import check_op

    x = np.random.default_rng(size).standard_normal((2, 3, size, size))
    pool = striate.nn.MaxPool2d(k, s, ceil_mode=True)  # as GoogLeNet and SqueezeNet pool
    assert pool(striate.tensor(x)).shape[2] == conv_out(size, k, s, ceil_mode=True)
    check_op(pool, [x], torch_fn=lambda t: __import__("torch").nn.functional.max_pool2d(
        t, k, s, ceil_mode=True))


def test_option_a_shortcut_pads_channels_with_zeros():
    from striate.models.resnet_cifar import PadShortcut

    x = striate.randn(2, 16, 8, 8)
    y = PadShortcut(16, 32, 2)(x).array
    assert y.shape == (2, 32, 4, 4)
    np.testing.assert_array_equal(y[:, 8:24], x.array[:, :, ::2, ::2])
    assert not y[:, :8].any() and not y[:, 24:].any()


def test_a_zoo_model_round_trips_through_its_state_dict():
    striate.manual_seed(0)
    a = create_model("resnet20", num_classes=3, input_shape=(1, 8, 8))
    a(striate.randn(4, 1, 8, 8))  # update the BN running statistics
    striate.manual_seed(1)
    b = create_model("resnet20", num_classes=3, input_shape=(1, 8, 8))
    b.load_state_dict(a.state_dict())
    a.eval()
    b.eval()
    x = striate.randn(2, 1, 8, 8)
    np.testing.assert_array_equal(a(x).array, b(x).array)


def test_densenet_and_googlenet_use_torchvisions_state_dict_names():
    with skip_init():
        dense = striate.models.densenet121()
        goog = striate.models.googlenet(aux_logits=True)
    keys = list(dense.state_dict())
    assert keys[0] == "features.conv0.weight" and keys[-1] == "classifier.bias"
    assert "features.denseblock4.denselayer16.conv2.weight" in keys
    assert "features.transition3.conv.weight" in keys
    keys = list(goog.state_dict())
    assert keys[0] == "conv1.conv.weight"
    assert "inception4e.branch4.1.bn.running_var" in keys and "aux2.fc2.bias" in keys
