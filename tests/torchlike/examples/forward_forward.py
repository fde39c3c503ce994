"""Hinton's forward-forward algorithm in the style of PyTorch's mnist_forward_forward example:
no backward pass through the network. Each layer is trained on its own, with its own optimizer,
to give a high "goodness" (mean squared activity) to positive data (an image with its true label
written into its first pixels) and a low one to negative data (the same image with a wrong
label); the input of each layer is length-normalised, so only the direction of the previous
layer's activity passes on. A digit is classified by trying every label and picking the one with
the highest goodness summed over the layers."""

import importlib
import os

from _digits import digits

torch = importlib.import_module(os.environ.get("TORCHLIKE_LIB", "striate"))  # import torch
nn, optim = torch.nn, torch.optim

NUM_CLASSES = 10


def overlay_y_on_x(x, y):
    """Write label y one-hot into the first 10 pixels of each (flattened) image."""
    x_ = x.clone()
    x_[:, :NUM_CLASSES] *= 0.0
    x_[range(x.shape[0]), y] = x.max()
    return x_


class Layer(nn.Linear):
    # the official example uses threshold 2.0 and 1000 epochs on MNIST; with 64-pixel digits
    # and 150 full-batch epochs a lower threshold trains as far in a few seconds
    def __init__(self, in_features, out_features, threshold=0.5, epochs=150, lr=0.03):
        super().__init__(in_features, out_features)
        self.relu = nn.ReLU()
        self.opt = optim.Adam(self.parameters(), lr=lr)
        self.threshold = threshold
        self.num_epochs = epochs

    def forward(self, x):
        x_direction = x / (x.norm(2, 1, keepdim=True) + 1e-4)
        return self.relu(torch.mm(x_direction, self.weight.T) + self.bias.unsqueeze(0))

    def train_layer(self, x_pos, x_neg):
        for _ in range(self.num_epochs):
            g_pos = self.forward(x_pos).pow(2).mean(1)
            g_neg = self.forward(x_neg).pow(2).mean(1)
            # push positive goodness above the threshold and negative goodness below it
            loss = torch.log(1 + torch.exp(torch.cat([-g_pos + self.threshold,
                                                      g_neg - self.threshold]))).mean()
            self.opt.zero_grad()
            loss.backward()  # only this layer's parameters: its input is detached
            self.opt.step()
        return self.forward(x_pos).detach(), self.forward(x_neg).detach()


class Net(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.layers = nn.ModuleList([Layer(dims[d], dims[d + 1]) for d in range(len(dims) - 1)])

    def predict(self, x):
        goodness_per_label = []
        for label in range(NUM_CLASSES):
            h = overlay_y_on_x(x, label)
            goodness = []
            for layer in self.layers:
                h = layer(h)
                goodness += [h.pow(2).mean(1)]
            goodness_per_label += [sum(goodness).unsqueeze(1)]
        return torch.cat(goodness_per_label, 1).argmax(1)

    def train_net(self, x_pos, x_neg):
        h_pos, h_neg = x_pos, x_neg
        for layer in self.layers:
            h_pos, h_neg = layer.train_layer(h_pos, h_neg)


def main(n_train=1000):
    torch.manual_seed(1)
    (xtr, ytr), (xte, yte) = digits()
    x = torch.from_numpy(xtr[:n_train].reshape(n_train, -1))
    y = torch.from_numpy(ytr[:n_train])
    net = Net([64, 100, 100])
    x_pos = overlay_y_on_x(x, y)
    rnd = torch.randperm(x.size(0))  # negative data: labels shuffled, mostly wrong
    x_neg = overlay_y_on_x(x, y[rnd])
    net.train_net(x_pos, x_neg)
    with torch.no_grad():
        train_acc = net.predict(x).eq(y).float().mean().item()
        xt = torch.from_numpy(xte.reshape(len(xte), -1))
        test_acc = net.predict(xt).eq(torch.from_numpy(yte)).float().mean().item()
    print(f"train accuracy: {train_acc:.1%}, test accuracy: {test_acc:.1%}")
    return {"accuracy": test_acc, "train_accuracy": train_acc}


if __name__ == "__main__":
    main()
