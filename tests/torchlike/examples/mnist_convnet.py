"""A ConvNet digit classifier in the style of PyTorch's MNIST example: two convolutions, max
pooling, dropout, log-softmax + NLL, Adadelta with a StepLR schedule, train/test loops."""

import importlib
import os

import numpy as np
from _digits import digits

torch = importlib.import_module(os.environ.get("TORCHLIKE_LIB", "striate"))  # import torch
nn, F, optim = torch.nn, torch.nn.functional, torch.optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, 1, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, 1, padding=1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(32 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        return F.log_softmax(self.fc2(x), dim=1)


def train(model, x, y, optimizer, batch_size=64):
    model.train()
    order = np.random.RandomState(len(x)).permutation(len(x))
    for i in range(0, len(x), batch_size):
        idx = order[i:i + batch_size]
        data, target = torch.from_numpy(x[idx]), torch.from_numpy(y[idx])
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
    return loss.item()


def test(model, x, y):
    model.eval()
    with torch.no_grad():
        output = model(torch.from_numpy(x))
        test_loss = F.nll_loss(output, torch.from_numpy(y), reduction="sum").item() / len(x)
        pred = output.argmax(dim=1, keepdim=True)
        correct = pred.eq(torch.from_numpy(y).view_as(pred)).sum().item()
    return test_loss, correct / len(x)


def main(epochs=3, n_train=900):
    torch.manual_seed(1)
    (xtr, ytr), (xte, yte) = digits()
    xtr, ytr = xtr[:n_train], ytr[:n_train]
    model = Net()
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    for _ in range(epochs):
        train(model, xtr, ytr, optimizer)
        scheduler.step()
    test_loss, accuracy = test(model, xte, yte)
    print(f"Test set: Average loss: {test_loss:.4f}, Accuracy: {accuracy:.1%}")
    return {"accuracy": accuracy, "test_loss": test_loss}


if __name__ == "__main__":
    main()
