"""Seeing inside ConvNets (the "Visualizing and Understanding" lecture): filters, activations,
nearest neighbours, t-SNE, maximally activating patches, occlusion, saliency, guided
backpropagation, class visualisation, fooling images, DeepDream, feature inversion, texture
synthesis and (fast) neural style transfer, on models trained with striate and on any image.

``striate visualize ...`` is the command; ``docs/visualization.md`` shows each tool.
"""

from .faststyle import *
from .gradients import *
from .images import *
from .layers import *
from .network import *
from .style import *
from .synthesis import *
