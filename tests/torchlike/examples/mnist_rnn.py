"""A recurrent digit classifier in the style of PyTorch's mnist_rnn example: an LSTM reads the
image one row at a time (8 steps of 8 pixels), its last output goes through batch norm, dropout
and two linear layers to log-probabilities; NLL loss, Adadelta with a StepLR schedule."""

import importlib
import os

import numpy as np
from _digits import digits

torch = importlib.import_module(os.environ.get("TORCHLIKE_LIB", "striate"))  # import torch
nn, F, optim = torch.nn, torch.nn.functional, torch.optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(input_size=8, hidden_size=64, batch_first=True)
        self.batchnorm = nn.BatchNorm1d(64)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, input):
        # (N, 1, 8, 8) -> (N, 8, 8): 8 time steps (rows) of 8 features, batch first
        input = input.reshape(-1, 8, 8)
        output, hidden = self.rnn(input)
        output = output[:, -1, :]  # the last time step's output
        output = self.batchnorm(output)
        output = self.dropout1(output)
        output = F.relu(self.fc1(output))
        output = self.dropout2(output)
        return F.log_softmax(self.fc2(output), dim=1)


def train(model, x, y, optimizer, epoch, batch_size=64):
    model.train()
    order = np.random.RandomState(epoch).permutation(len(x))
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


def main(epochs=6):
    torch.manual_seed(1)
    (xtr, ytr), (xte, yte) = digits()
    model = Net()
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    for epoch in range(epochs):
        train(model, xtr, ytr, optimizer, epoch)
        scheduler.step()
    test_loss, accuracy = test(model, xte, yte)
    print(f"Test set: Average loss: {test_loss:.4f}, Accuracy: {accuracy:.1%}")
    return {"accuracy": accuracy, "test_loss": test_loss}


if __name__ == "__main__":
    main()
