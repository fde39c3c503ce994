"""Time-sequence prediction in the style of PyTorch's example: two stacked ``LSTMCell`` layers
learn sine waves, trained with ``LBFGS`` (a closure), then predict the continuation."""

import importlib
import os

import numpy as np

torch = importlib.import_module(os.environ.get("TORCHLIKE_LIB", "striate"))  # import torch
nn, optim = torch.nn, torch.optim


class Sequence(nn.Module):
    def __init__(self, hidden=24):
        super().__init__()
        self.hidden = hidden
        self.lstm1 = nn.LSTMCell(1, hidden)
        self.lstm2 = nn.LSTMCell(hidden, hidden)
        self.linear = nn.Linear(hidden, 1)

    def forward(self, x, future=0):
        outputs = []
        n = x.size(0)
        h_t = torch.zeros(n, self.hidden, dtype=torch.double)
        c_t = torch.zeros(n, self.hidden, dtype=torch.double)
        h_t2 = torch.zeros(n, self.hidden, dtype=torch.double)
        c_t2 = torch.zeros(n, self.hidden, dtype=torch.double)
        for input_t in x.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for _ in range(future):  # feed the prediction back in
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        return torch.cat(outputs, dim=1)


def make_data(n=24, length=40, period=20.0):
    rng = np.random.RandomState(2)
    x = np.arange(length) + rng.randint(-4 * period, 4 * period, (n, 1))
    return np.sin(x / period * 2 * np.pi)


def main(steps=4):
    torch.manual_seed(0)
    data = make_data()
    inp, target = torch.from_numpy(data[3:, :-1]), torch.from_numpy(data[3:, 1:])
    test_input, test_target = torch.from_numpy(data[:3, :-1]), torch.from_numpy(data[:3, 1:])
    seq = Sequence().double()
    criterion = nn.MSELoss()
    optimizer = optim.LBFGS(seq.parameters(), lr=0.8, max_iter=8)
    for _ in range(steps):
        def closure():
            optimizer.zero_grad()
            loss = criterion(seq(inp), target)
            loss.backward()
            return loss

        optimizer.step(closure)
    with torch.no_grad():
        pred = seq(test_input, future=10)
        test_loss = criterion(pred[:, :-10], test_target).item()
    print(f"test loss: {test_loss:.5f}")
    return {"test_loss": test_loss}


if __name__ == "__main__":
    main()
