"""Draws the demo catalog's product pictures: flat shapes on a soft background, one
WebP file per product, 600 x 600 pixels. Needs Pillow (`pip install pillow`).

    python3 demo/images/draw.py      # rewrites demo/images/*.webp
"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

SIZE = 600
# Drawn larger, then scaled down: smooth edges without an antialiasing drawing library.
SCALE = 3
S = SIZE * SCALE

INK = (29, 37, 48)
BRAND = (23, 50, 77)
ACTION = (31, 111, 92)
ACCENT = (242, 184, 75)
PAPER = (255, 255, 255)
STEEL = (176, 186, 197)
DARK = (52, 62, 76)


def px(value):
    return int(value * SCALE)


def box(x0, y0, x1, y1):
    return [px(x0), px(y0), px(x1), px(y1)]


def canvas(top, bottom):
    """A vertical gradient background and a soft shadow layer to draw on."""
    image = Image.new("RGB", (S, S))
    draw = ImageDraw.Draw(image)
    for y in range(S):
        t = y / S
        colour = tuple(int(a + (b - a) * t) for a, b in zip(top, bottom))
        draw.line([(0, y), (S, y)], fill=colour)
    return image


def shadow(image, shape, offset=14, blur=22):
    """A blurred dark ellipse or rectangle under an object."""
    layer = Image.new("L", (S, S), 0)
    ImageDraw.Draw(layer).rounded_rectangle(box(*shape), radius=px(30), fill=90)
    layer = layer.filter(ImageFilter.GaussianBlur(px(blur)))
    dark = Image.new("RGB", (S, S), (20, 28, 38))
    image.paste(dark, (0, px(offset)), layer)


def finish(image, name):
    out = Path(__file__).with_name(f"{name}.webp")
    image.resize((SIZE, SIZE), Image.LANCZOS).save(out, "WEBP", quality=82, method=6)
    print(out, out.stat().st_size, "bytes")


def keyboard():
    image = canvas((236, 243, 248), (205, 220, 232))
    shadow(image, (70, 215, 530, 425))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(box(70, 200, 530, 410), radius=px(28), fill=BRAND)
    draw.rounded_rectangle(box(86, 216, 514, 394), radius=px(18), fill=DARK)
    keys_per_row = [12, 11, 11, 10]
    for row, count in enumerate(keys_per_row):
        width = 400 / 12
        start = 100 + (12 - count) * width / 2
        for key in range(count):
            x = start + key * width
            y = 230 + row * 36
            colour = ACCENT if (row, key) in {(0, 0), (3, count - 1)} else (228, 233, 239)
            draw.rounded_rectangle(box(x + 3, y, x + width - 3, y + 28), radius=px(6), fill=colour)
    draw.rounded_rectangle(box(190, 372, 410, 388), radius=px(6), fill=(228, 233, 239))
    finish(image, "mechanical-keyboard")


def mouse():
    image = canvas((240, 236, 226), (226, 214, 190))
    shadow(image, (200, 150, 400, 470), offset=18)
    draw = ImageDraw.Draw(image)
    draw.ellipse(box(200, 140, 400, 470), fill=ACTION)
    draw.pieslice(box(200, 140, 400, 470), 180, 270, fill=(45, 138, 116))
    draw.line([(px(300), px(142)), (px(300), px(270))], fill=(22, 84, 70), width=px(5))
    draw.line([(px(202), px(270)), (px(398), px(270))], fill=(22, 84, 70), width=px(5))
    draw.rounded_rectangle(box(289, 185, 311, 235), radius=px(10), fill=ACCENT)
    waves(draw, 420, 120)
    finish(image, "wireless-mouse")


def hub():
    image = canvas((232, 240, 236), (200, 222, 212))
    shadow(image, (140, 250, 460, 350))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(box(140, 240, 460, 340), radius=px(40), fill=STEEL)
    draw.rounded_rectangle(box(150, 250, 450, 330), radius=px(32), fill=(206, 213, 221))
    for index in range(4):
        x = 180 + index * 62
        draw.rounded_rectangle(box(x, 278, x + 42, 302), radius=px(10), fill=INK)
        draw.rounded_rectangle(box(x + 8, 286, x + 34, 294), radius=px(4), fill=ACCENT)
    # The cable, up and out of the picture.
    draw.rounded_rectangle(box(288, 120, 312, 245), radius=px(10), fill=DARK)
    draw.rounded_rectangle(box(278, 100, 322, 140), radius=px(10), fill=BRAND)
    finish(image, "usb-c-hub")


def monitor():
    image = canvas((238, 240, 250), (208, 212, 236))
    shadow(image, (210, 440, 390, 475), offset=6, blur=12)
    draw = ImageDraw.Draw(image)
    draw.polygon([(px(270), px(400)), (px(330), px(400)), (px(345), px(455)), (px(255), px(455))],
                 fill=STEEL)
    draw.rounded_rectangle(box(210, 448, 390, 470), radius=px(10), fill=DARK)
    draw.rounded_rectangle(box(80, 120, 520, 410), radius=px(22), fill=INK)
    screen = box(96, 136, 504, 394)
    draw.rectangle(screen, fill=BRAND)
    # A landscape on the screen: sun, hills.
    draw.ellipse(box(390, 165, 450, 225), fill=ACCENT)
    draw.polygon([(px(96), px(394)), (px(96), px(320)), (px(230), px(250)), (px(360), px(330)),
                  (px(504), px(270)), (px(504), px(394))], fill=ACTION)
    draw.polygon([(px(96), px(394)), (px(200), px(340)), (px(330), px(394))], fill=(45, 138, 116))
    finish(image, "27-monitor")


def stand():
    image = canvas((244, 238, 232), (224, 210, 198))
    shadow(image, (120, 430, 480, 470), offset=6, blur=14)
    draw = ImageDraw.Draw(image)
    # The stand: two legs and a tilted plate.
    draw.polygon([(px(170), px(455)), (px(200), px(455)), (px(260), px(300)), (px(235), px(300))],
                 fill=STEEL)
    draw.polygon([(px(400), px(455)), (px(430), px(455)), (px(380), px(260)), (px(355), px(260))],
                 fill=STEEL)
    draw.polygon([(px(120), px(330)), (px(470), px(240)), (px(480), px(262)), (px(132), px(352))],
                 fill=(150, 160, 172))
    # The laptop on it: base and open screen.
    draw.polygon([(px(150), px(318)), (px(455), px(240)), (px(462), px(254)), (px(158), px(332))],
                 fill=DARK)
    draw.polygon([(px(150), px(318)), (px(112), px(130)), (px(400), px(70)), (px(455), px(240))],
                 fill=INK)
    draw.polygon([(px(166), px(300)), (px(133), px(145)), (px(388), px(91)), (px(436), px(236))],
                 fill=BRAND)
    draw.ellipse(box(265, 165, 305, 205), fill=ACCENT)
    finish(image, "laptop-stand")


def headphones():
    image = canvas((246, 236, 240), (230, 206, 216))
    shadow(image, (130, 330, 470, 470), offset=16)
    draw = ImageDraw.Draw(image)
    draw.arc(box(150, 110, 450, 420), 180, 360, fill=INK, width=px(34))
    draw.arc(box(168, 128, 432, 402), 190, 350, fill=(80, 90, 104), width=px(8))
    for x in (125, 395):
        draw.rounded_rectangle(box(x, 250, x + 80, 410), radius=px(36), fill=BRAND)
        draw.rounded_rectangle(box(x + 14, 268, x + 66, 392), radius=px(24), fill=DARK)
    draw.ellipse(box(150, 315, 180, 345), fill=ACCENT)
    finish(image, "noise-cancelling-headphones")


def waves(draw, x, y, colour=BRAND):
    """Radio waves, for the wireless things."""
    for radius in (40, 70, 100):
        draw.arc(box(x - radius, y - radius, x + radius, y + radius), 200, 250,
                 fill=colour, width=px(9))


def wireless_keyboard():
    image = canvas((238, 242, 246), (214, 222, 230))
    shadow(image, (80, 260, 520, 400))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(box(80, 250, 520, 390), radius=px(22), fill=(246, 247, 249))
    for row in range(3):
        for key in range(11):
            x = 104 + key * 36
            y = 268 + row * 36
            draw.rounded_rectangle(box(x, y, x + 30, y + 28), radius=px(6), fill=(188, 196, 206))
    draw.rounded_rectangle(box(190, 376, 410, 384), radius=px(4), fill=(188, 196, 206))
    waves(draw, 470, 200)
    finish(image, "wireless-keyboard")


def earbuds():
    image = canvas((236, 244, 240), (204, 226, 214))
    shadow(image, (110, 290, 330, 450), offset=16)
    draw = ImageDraw.Draw(image)
    # The case, open.
    draw.rounded_rectangle(box(110, 300, 330, 450), radius=px(60), fill=ACTION)
    draw.rounded_rectangle(box(110, 230, 330, 320), radius=px(50), fill=(45, 138, 116))
    draw.ellipse(box(205, 420, 235, 432), fill=ACCENT)
    # Two buds beside it.
    for x, y in ((390, 250), (440, 330)):
        draw.ellipse(box(x - 45, y - 45, x + 45, y + 45), fill=PAPER)
        draw.rounded_rectangle(box(x - 12, y + 20, x + 12, y + 110), radius=px(12), fill=PAPER)
        draw.ellipse(box(x - 20, y - 20, x + 20, y + 20), fill=(188, 196, 206))
    finish(image, "wireless-earbuds")


def speakers():
    image = canvas((246, 240, 232), (228, 214, 196))
    draw = ImageDraw.Draw(image)
    for x in (100, 330):
        shadow(image, (x, 150, x + 170, 470), offset=14)
        draw = ImageDraw.Draw(image)
        draw.rounded_rectangle(box(x, 140, x + 170, 460), radius=px(16), fill=(168, 112, 70))
        draw.rounded_rectangle(box(x + 12, 152, x + 158, 448), radius=px(10), fill=(186, 128, 84))
        draw.ellipse(box(x + 55, 180, x + 115, 240), fill=INK)
        draw.ellipse(box(x + 75, 200, x + 95, 220), fill=DARK)
        draw.ellipse(box(x + 25, 280, x + 145, 400), fill=INK)
        draw.ellipse(box(x + 60, 315, x + 110, 365), fill=DARK)
    finish(image, "bookshelf-speakers")


def mouse_pad():
    image = canvas((238, 240, 250), (210, 214, 238))
    shadow(image, (60, 220, 540, 420), offset=10)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(box(60, 210, 540, 410), radius=px(26), fill=ACCENT)
    draw.rounded_rectangle(box(68, 218, 532, 402), radius=px(20), fill=BRAND)
    # A mouse on it.
    draw.ellipse(box(400, 250, 480, 370), fill=(228, 233, 239))
    draw.line([(px(440), px(252)), (px(440), px(300))], fill=STEEL, width=px(4))
    finish(image, "mouse-pad")


def charger():
    image = canvas((240, 236, 246), (220, 210, 232))
    shadow(image, (130, 300, 470, 460), offset=12)
    draw = ImageDraw.Draw(image)
    draw.ellipse(box(130, 290, 470, 450), fill=DARK)
    draw.ellipse(box(150, 300, 450, 430), fill=INK)
    draw.ellipse(box(280, 420, 320, 440), fill=ACTION)
    # A phone lying on it, and the charge.
    draw.rounded_rectangle(box(215, 150, 385, 400), radius=px(26), fill=(40, 46, 58))
    draw.rounded_rectangle(box(228, 168, 372, 382), radius=px(16), fill=BRAND)
    draw.polygon([(px(310), px(200)), (px(270), px(285)), (px(300), px(285)), (px(285), px(350)),
                  (px(335), px(255)), (px(302), px(255))], fill=ACCENT)
    finish(image, "wireless-charger")


def cable():
    image = canvas((236, 243, 240), (206, 226, 216))
    draw = ImageDraw.Draw(image)
    # A coil of cable, and its two plugs.
    for radius, width in ((150, 16), (118, 16), (86, 16)):
        draw.ellipse(box(300 - radius, 300 - radius, 300 + radius, 300 + radius),
                     outline=ACTION, width=px(width))
    draw.line([(px(450), px(300)), (px(520), px(180))], fill=ACTION, width=px(16))
    draw.line([(px(214), px(300)), (px(120), px(440))], fill=ACTION, width=px(16))
    for x, y in ((520, 160), (110, 460)):
        draw.rounded_rectangle(box(x - 26, y - 40, x + 26, y + 40), radius=px(12), fill=STEEL)
        draw.rounded_rectangle(box(x - 14, y - 30, x + 14, y - 10), radius=px(6), fill=INK)
    finish(image, "usb-c-cable")


if __name__ == "__main__":
    for draw_one in (keyboard, mouse, hub, monitor, stand, headphones, wireless_keyboard, earbuds,
                     speakers, mouse_pad, charger, cable):
        draw_one()
