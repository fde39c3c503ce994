"""Single-image super-resolution in the style of PyTorch's super_resolution example: an ESPCN
(Shi et al. 2016) that works at the low resolution and ends in a sub-pixel convolution
(``PixelShuffle``), trained with Adam on the MSE between its output and the high-resolution
image, and scored by PSNR against nearest-neighbour upsampling. Data: 16x16 patches of
scikit-image's "camera" photograph (left half for training, right half for testing), each shrunk
2x by averaging, so nothing is downloaded."""

import importlib
import math
import os

import numpy as np

torch = importlib.import_module(os.environ.get("TORCHLIKE_LIB", "striate"))  # import torch
nn, F, optim, init = torch.nn, torch.nn.functional, torch.optim, torch.nn.init


class Net(nn.Module):
    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor
        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(1, 16, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(16, 16, (3, 3), (1, 1), (1, 1))
        self.conv3 = nn.Conv2d(16, 8, (3, 3), (1, 1), (1, 1))
        self.conv4 = nn.Conv2d(8, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)
        self._initialize_weights()

    def forward(self, x):
        # the net learns the detail that nearest-neighbour upsampling misses (a residual, as in
        # VDSR), so a few hundred steps already beat it; the official example maps x directly
        up = F.interpolate(x, scale_factor=self.upscale_factor, mode="nearest")
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        x = self.relu(self.conv3(x))
        return self.pixel_shuffle(self.conv4(x)) + up

    def _initialize_weights(self):
        init.orthogonal_(self.conv1.weight, init.calculate_gain("relu"))
        init.orthogonal_(self.conv2.weight, init.calculate_gain("relu"))
        init.orthogonal_(self.conv3.weight, init.calculate_gain("relu"))
        init.orthogonal_(self.conv4.weight)


def patches(image, n, size=16, seed=0):
    """n random size x size crops of a grayscale uint8 image, as floats in [0, 1]."""
    rng = np.random.RandomState(seed)
    ys = rng.randint(0, image.shape[0] - size, n)
    xs = rng.randint(0, image.shape[1] - size, n)
    crops = [image[y:y + size, x:x + size] for y, x in zip(ys, xs)]
    return (np.stack(crops)[:, None] / 255.0).astype(np.float32)


def psnr(mse):
    return 10 * math.log10(1 / mse)


def main(epochs=40, upscale_factor=2, batch_size=16, lr=0.003):
    from skimage import data

    torch.manual_seed(123)
    camera = data.camera()  # 512 x 512: train on the left half, test on the right half
    train_hr = torch.from_numpy(patches(camera[:, :256], 320))
    test_hr = torch.from_numpy(patches(camera[:, 256:], 128, seed=1))
    train_lr = F.avg_pool2d(train_hr, upscale_factor)
    test_lr = F.avg_pool2d(test_hr, upscale_factor)
    model = Net(upscale_factor)
    criterion = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=lr)
    order = np.random.RandomState(0)
    for _ in range(epochs):
        perm = order.permutation(len(train_hr))
        for i in range(0, len(perm), batch_size):
            idx = torch.from_numpy(perm[i:i + batch_size])
            optimizer.zero_grad()
            loss = criterion(model(train_lr[idx]), train_hr[idx])
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        test_psnr = psnr(criterion(model(test_lr), test_hr).item())
        upsampled = F.interpolate(test_lr, scale_factor=upscale_factor, mode="nearest")
        baseline = psnr(criterion(upsampled, test_hr).item())
    print(f"test PSNR: {test_psnr:.2f} dB (nearest-neighbour upsampling: {baseline:.2f} dB)")
    return {"psnr": test_psnr, "baseline_psnr": baseline, "psnr_gain": test_psnr - baseline}


if __name__ == "__main__":
    main()
