"""DCGAN's alternating update in the style of PyTorch's example, on the 8x8 digits: transposed
convolutions with batch norm in the generator, leaky ReLU in the discriminator, BCELoss with
real/fake labels, Adam with beta1 = 0.5, ``detach()`` for the discriminator's step."""

import importlib
import os

import numpy as np
from _digits import digits

torch = importlib.import_module(os.environ.get("TORCHLIKE_LIB", "striate"))  # import torch
nn, optim = torch.nn, torch.optim

NZ = 16


class Generator(nn.Module):
    def __init__(self, ngf=32):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(NZ, ngf, 4, 1, 0, bias=False),  # -> 4x4
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, 1, 4, 2, 1, bias=False),  # -> 8x8
            nn.Sigmoid(),
        )

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self, ndf=32):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, ndf, 4, 2, 1, bias=False),  # -> 4x4
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, 1, 4, 1, 0, bias=False),  # -> 1x1
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.main(x).view(-1, 1).squeeze(1)


def main(epochs=3, batch_size=64):
    torch.manual_seed(0)
    (xtr, _), _ = digits()
    netG, netD = Generator(), Discriminator()
    criterion = nn.BCELoss()
    optimizerD = optim.Adam(netD.parameters(), lr=2e-3, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=2e-3, betas=(0.5, 0.999))
    real_label, fake_label = 1.0, 0.0
    order = np.random.RandomState(0).permutation(len(xtr))
    for _ in range(epochs):
        for i in range(0, len(xtr), batch_size):
            real = torch.from_numpy(xtr[order[i:i + batch_size]])
            b = real.size(0)
            # (1) update D: maximize log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            label = torch.full((b,), real_label)
            errD_real = criterion(netD(real), label)
            errD_real.backward()
            fake = netG(torch.randn(b, NZ, 1, 1))
            label.fill_(fake_label)
            errD_fake = criterion(netD(fake.detach()), label)
            errD_fake.backward()
            optimizerD.step()
            # (2) update G: maximize log(D(G(z)))
            netG.zero_grad()
            label.fill_(real_label)
            errG = criterion(netD(fake), label)
            errG.backward()
            optimizerG.step()
    netG.eval()
    with torch.no_grad():
        samples = netG(torch.randn(256, NZ, 1, 1))
    gap = abs(samples.mean().item() - float(xtr.mean()))
    print(f"Loss_D: {(errD_real + errD_fake).item():.3f} Loss_G: {errG.item():.3f} "
          f"mean-intensity gap: {gap:.3f}")
    return {"intensity_gap": gap, "loss_G": errG.item()}


if __name__ == "__main__":
    main()
