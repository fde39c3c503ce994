"""A variational autoencoder on the 8x8 digits, in the style of PyTorch's VAE example: Gaussian
encoder, the reparameterisation trick with ``randn_like``, Bernoulli decoder, BCE + KL loss."""

import importlib
import os

import numpy as np
from _digits import digits

torch = importlib.import_module(os.environ.get("TORCHLIKE_LIB", "striate"))  # import torch
nn, F, optim = torch.nn, torch.nn.functional, torch.optim


class VAE(nn.Module):
    def __init__(self, latent=4):
        super().__init__()
        self.fc1 = nn.Linear(64, 128)
        self.fc21 = nn.Linear(128, latent)
        self.fc22 = nn.Linear(128, latent)
        self.fc3 = nn.Linear(latent, 128)
        self.fc4 = nn.Linear(128, 64)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 64))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 64), reduction="sum")
    # KL(q(z|x) || N(0, I)) in closed form (Kingma & Welling, appendix B)
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def main(epochs=6, batch_size=64, n_train=700):
    torch.manual_seed(1)
    (xtr, _), (xte, _) = digits()
    xtr = xtr[:n_train]
    model = VAE()
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    order = np.random.RandomState(0).permutation(len(xtr))
    for _ in range(epochs):
        model.train()
        for i in range(0, len(xtr), batch_size):
            data = torch.from_numpy(xtr[order[i:i + batch_size]])
            optimizer.zero_grad()
            recon, mu, logvar = model(data)
            loss = loss_function(recon, data, mu, logvar)
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        data = torch.from_numpy(xte)
        recon, mu, logvar = model(data)
        test_loss = loss_function(recon, data, mu, logvar).item() / len(xte)
        sample = model.decode(torch.randn(16, 4))
    print(f"Test set loss: {test_loss:.2f} nats per image; samples {tuple(sample.shape)}")
    return {"test_loss": test_loss}


if __name__ == "__main__":
    main()
